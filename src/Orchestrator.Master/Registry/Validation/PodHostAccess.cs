using System.Text.RegularExpressions;
using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>
/// The pod fields that reach into the node — volume mounts (subPath, propagation, read-only), hostPath volumes, the host
/// namespaces, security contexts, sysctls — validated as Kubernetes' ValidatePodSpec does, plus what this cluster's
/// nodes cannot honour refused with 422 naming the field, so that nothing is accepted and then ignored: Windows options,
/// bindMountOptions, and sysctls outside the kubelet's safe set (which a kubelet would reject at the node). User
/// namespaces (hostUsers: false, and with it procMount Unmasked), supplementalGroupsPolicy and seLinuxChangePolicy belong
/// to features off in 1.32, whose fields <see cref="DisabledPodFields"/> drops before this runs: they are refused here
/// only where an update keeps them because the stored object already had them. Who may use the host's namespaces or
/// privileged containers is Pod Security's decision, not this one's.
/// </summary>
internal static partial class PodHostAccess
{
    private static readonly string[] Propagations = ["Bidirectional", "HostToContainer", "None"];
    private static readonly string[] RecursiveReadOnlyModes = ["Disabled", "Enabled", "IfPossible"];
    private static readonly string[] HostPathTypes = ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"];
    private static readonly string[] ProfileTypes = ["Localhost", "RuntimeDefault", "Unconfined"];
    private static readonly string[] ProcMounts = ["Default", "Unmasked"];
    private static readonly string[] FsGroupChangePolicies = ["Always", "OnRootMismatch"];

    /// <summary>The kubelet's safe sysctls (namespaced, isolated per pod); others need --allowed-unsafe-sysctls on a node.</summary>
    public static readonly string[] SafeSysctls =
    [
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    ];

    private const string NotOnTheseNodes = "not supported by this cluster's nodes";

    /// <summary>A pod's (not a template's) defaults: with hostNetwork, a port without hostPort gets its containerPort.</summary>
    public static void DefaultPod(V1PodSpec spec)
    {
        if (spec.HostNetwork != true) return;
        foreach (var port in (spec.InitContainers ?? []).Concat(spec.Containers ?? []).SelectMany(c => c.Ports ?? []))
            if (port.HostPort is null or 0) port.HostPort = port.ContainerPort;
    }

    public static void Validate(V1PodSpec spec, string path, List<StoreErrorCause> causes)
    {
        ValidateVolumes(spec.Volumes, $"{path}.volumes", causes);
        ValidatePodSecurityContext(spec, path, causes);
        if (spec.HostUsers == false)
            causes.Add(FieldErrors.Forbidden($"{path}.hostUsers", $"user namespaces are {NotOnTheseNodes}"));
        if (spec.ShareProcessNamespace == true && spec.HostPID == true)
            causes.Add(FieldErrors.Invalid($"{path}.shareProcessNamespace", true, "ShareProcessNamespace and HostPID cannot both be enabled"));
        ValidateContainers(spec, spec.InitContainers, $"{path}.initContainers", causes);
        ValidateContainers(spec, spec.Containers, $"{path}.containers", causes);
    }

    private static void ValidateVolumes(IList<V1Volume>? volumes, string path, List<StoreErrorCause> causes)
    {
        for (var i = 0; i < (volumes?.Count ?? 0); i++)
        {
            if (volumes![i].HostPath is not { } hostPath) continue;
            var at = $"{path}[{i}].hostPath";
            if (string.IsNullOrEmpty(hostPath.Path))
            {
                causes.Add(FieldErrors.Required($"{at}.path"));
                continue;
            }
            if (HasBacksteps(hostPath.Path)) causes.Add(FieldErrors.Invalid($"{at}.path", hostPath.Path, "must not contain '..'"));
            if (hostPath.Type is { } type && !HostPathTypes.Contains(type))
                causes.Add(FieldErrors.NotSupported($"{at}.type", type, HostPathTypes));
        }
    }

    private static void ValidateContainers(V1PodSpec spec, IList<V1Container>? containers, string path, List<StoreErrorCause> causes)
    {
        for (var i = 0; i < (containers?.Count ?? 0); i++)
        {
            var c = containers![i];
            var at = $"{path}[{i}]";
            ValidateMounts(c, $"{at}.volumeMounts", causes);
            ValidateContainerSecurityContext(c.SecurityContext, $"{at}.securityContext", causes);
            if (spec.HostNetwork != true) continue;
            for (var j = 0; j < (c.Ports?.Count ?? 0); j++)
                if (c.Ports![j].HostPort is { } host && host != 0 && host != c.Ports[j].ContainerPort)
                    causes.Add(FieldErrors.Invalid($"{at}.ports[{j}].hostPort", host, "must match `containerPort` when `hostNetwork` is true"));
        }
    }

    /// <summary>Kubernetes names subPath and mountPropagation errors after the list, not the item (its field paths, kept).</summary>
    private static void ValidateMounts(V1Container container, string path, List<StoreErrorCause> causes)
    {
        var privileged = container.SecurityContext?.Privileged == true;
        for (var i = 0; i < (container.VolumeMounts?.Count ?? 0); i++)
        {
            var mount = container.VolumeMounts![i];
            var at = $"{path}[{i}]";
            if (!string.IsNullOrEmpty(mount.SubPath)) ValidateLocalDescendingPath(mount.SubPath, $"{path}.subPath", causes);
            if (!string.IsNullOrEmpty(mount.SubPathExpr))
            {
                if (!string.IsNullOrEmpty(mount.SubPath))
                    causes.Add(FieldErrors.Invalid($"{at}.subPathExpr", mount.SubPathExpr, "subPathExpr and subPath are mutually exclusive"));
                ValidateLocalDescendingPath(mount.SubPathExpr, $"{path}.subPathExpr", causes);
            }
            if (mount.MountPropagation is { } propagation)
            {
                if (!Propagations.Contains(propagation))
                    causes.Add(FieldErrors.NotSupported($"{path}.mountPropagation", propagation, Propagations));
                else if (propagation == "Bidirectional" && !privileged)
                    causes.Add(FieldErrors.Forbidden($"{path}.mountPropagation", "Bidirectional mount propagation is available only to privileged containers"));
            }
            if (mount.RecursiveReadOnly is { } rro)
            {
                if (!RecursiveReadOnlyModes.Contains(rro))
                    causes.Add(FieldErrors.NotSupported($"{at}.recursiveReadOnly", rro, RecursiveReadOnlyModes));
                else if (rro != "Disabled")
                {
                    if (mount.ReadOnlyProperty != true)
                        causes.Add(FieldErrors.Forbidden($"{at}.recursiveReadOnly", "may only be specified when readOnly is true"));
                    if (mount.MountPropagation is { } p && p != "None")
                        causes.Add(FieldErrors.Forbidden($"{at}.recursiveReadOnly", "may only be specified when mountPropagation is None or not specified"));
                }
            }
            if (mount.BindMountOptions is not null)
                causes.Add(FieldErrors.Forbidden($"{at}.bindMountOptions", NotOnTheseNodes));
        }
    }

    private static void ValidateLocalDescendingPath(string value, string field, List<StoreErrorCause> causes)
    {
        if (value.StartsWith('/')) causes.Add(FieldErrors.Invalid(field, value, "must be a relative path"));
        if (HasBacksteps(value)) causes.Add(FieldErrors.Invalid(field, value, "must not contain '..'"));
    }

    private static bool HasBacksteps(string value) => value.Replace('\\', '/').Split('/').Contains("..");

    private static void ValidatePodSecurityContext(V1PodSpec spec, string path, List<StoreErrorCause> causes)
    {
        var at = $"{path}.securityContext";
        if (spec.SecurityContext is not { } context) return;
        ValidateId(context.RunAsUser, $"{at}.runAsUser", causes);
        ValidateId(context.RunAsGroup, $"{at}.runAsGroup", causes);
        ValidateId(context.FsGroup, $"{at}.fsGroup", causes);
        for (var i = 0; i < (context.SupplementalGroups?.Count ?? 0); i++)
            ValidateId(context.SupplementalGroups![i], $"{at}.supplementalGroups[{i}]", causes);
        if (context.FsGroupChangePolicy is { } change && !FsGroupChangePolicies.Contains(change))
            causes.Add(FieldErrors.NotSupported($"{at}.fsGroupChangePolicy", change, FsGroupChangePolicies));
        ValidateProfile(context.SeccompProfile?.Type, context.SeccompProfile?.LocalhostProfile, $"{at}.seccompProfile", "seccomp", causes);
        ValidateProfile(context.AppArmorProfile?.Type, context.AppArmorProfile?.LocalhostProfile, $"{at}.appArmorProfile", "AppArmor", causes);
        if (context.WindowsOptions is not null)
            causes.Add(FieldErrors.Forbidden($"{at}.windowsOptions", $"Windows options are {NotOnTheseNodes} (they run Linux)"));
        if (context.SupplementalGroupsPolicy is not null)
            causes.Add(FieldErrors.Forbidden($"{at}.supplementalGroupsPolicy", NotOnTheseNodes));
        if (context.SeLinuxChangePolicy is not null)
            causes.Add(FieldErrors.Forbidden($"{at}.seLinuxChangePolicy", NotOnTheseNodes));
        ValidateSysctls(context.Sysctls, spec, $"{at}.sysctls", causes);
    }

    private static void ValidateContainerSecurityContext(V1SecurityContext? context, string at, List<StoreErrorCause> causes)
    {
        if (context is null) return;
        ValidateId(context.RunAsUser, $"{at}.runAsUser", causes);
        ValidateId(context.RunAsGroup, $"{at}.runAsGroup", causes);
        ValidateProfile(context.SeccompProfile?.Type, context.SeccompProfile?.LocalhostProfile, $"{at}.seccompProfile", "seccomp", causes);
        ValidateProfile(context.AppArmorProfile?.Type, context.AppArmorProfile?.LocalhostProfile, $"{at}.appArmorProfile", "AppArmor", causes);
        if (context.ProcMount is { } procMount)
        {
            if (!ProcMounts.Contains(procMount)) causes.Add(FieldErrors.NotSupported($"{at}.procMount", procMount, ProcMounts));
            else if (procMount == "Unmasked")
                causes.Add(FieldErrors.Invalid($"{at}.procMount", procMount, "`hostUsers` must be false to use `Unmasked`"));
        }
        if (context.WindowsOptions is not null)
            causes.Add(FieldErrors.Forbidden($"{at}.windowsOptions", $"Windows options are {NotOnTheseNodes} (they run Linux)"));
        if (context.AllowPrivilegeEscalation == false)
        {
            if (context.Privileged == true)
                causes.Add(FieldErrors.Invalid(at, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
            if (context.Capabilities?.Add?.Contains("CAP_SYS_ADMIN") == true)
                causes.Add(FieldErrors.Invalid(at, "", "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"));
        }
    }

    private static void ValidateId(long? id, string field, List<StoreErrorCause> causes)
    {
        if (id is { } value && value is < 0 or > int.MaxValue)
            causes.Add(FieldErrors.Invalid(field, value, "must be between 0 and 2147483647, inclusive"));
    }

    private static void ValidateProfile(string? type, string? localhost, string at, string what, List<StoreErrorCause> causes)
    {
        if (type is null)
        {
            if (localhost is not null) causes.Add(FieldErrors.Required($"{at}.type"));
            return;
        }
        if (!ProfileTypes.Contains(type))
            causes.Add(FieldErrors.NotSupported($"{at}.type", type, ProfileTypes));
        else if (type == "Localhost" && string.IsNullOrEmpty(localhost))
            causes.Add(FieldErrors.Required($"{at}.localhostProfile", $"must be set when {what} type is Localhost"));
        else if (type != "Localhost" && localhost is not null)
            causes.Add(FieldErrors.Invalid($"{at}.localhostProfile", localhost, $"can only be set when {what} type is Localhost"));
    }

    private static void ValidateSysctls(IList<V1Sysctl>? sysctls, V1PodSpec spec, string path, List<StoreErrorCause> causes)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (sysctls?.Count ?? 0); i++)
        {
            var name = sysctls![i].Name ?? "";
            var at = $"{path}[{i}].name";
            if (name.Length == 0) { causes.Add(FieldErrors.Required(at)); continue; }
            if (name.Length > 253 || !SysctlName().IsMatch(name))
            {
                causes.Add(FieldErrors.Invalid(at, name,
                    "must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"));
                continue;
            }
            if (!names.Add(name)) causes.Add(FieldErrors.Duplicate(at, name));
            if (spec.HostNetwork == true && name.StartsWith("net.", StringComparison.Ordinal))
                causes.Add(FieldErrors.Invalid(at, name, "may not be specified when 'hostNetwork' is true"));
            else if (spec.HostIPC == true && (name.StartsWith("kernel.shm", StringComparison.Ordinal) || name.StartsWith("kernel.msg", StringComparison.Ordinal)
                     || name == "kernel.sem" || name.StartsWith("fs.mqueue.", StringComparison.Ordinal)))
                causes.Add(FieldErrors.Invalid(at, name, "may not be specified when 'hostIPC' is true"));
            else if (!SafeSysctls.Contains(name))
                causes.Add(FieldErrors.Forbidden(at, $"forbidden sysctl: \"{name}\" not allowlisted (the nodes allow the kubelet's safe sysctls only)"));
        }
    }

    [GeneratedRegex(@"^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?\z")]
    private static partial Regex SysctlName();
}
