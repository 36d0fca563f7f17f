using k8s.Models;
using static Orchestrator.Master.Admission.PodSecurity.CheckText;

namespace Orchestrator.Master.Admission.PodSecurity;

/// <summary>The restricted profile's own checks as Kubernetes 1.32 evaluates them (policy/check_*.go), with kube's
/// messages. From policy v1.25 on, the Linux-only ones pass pods with <c>spec.os.name: windows</c>.</summary>
internal static class RestrictedChecks
{

    public static readonly IReadOnlyList<PodSecurityCheck> All =
    [
        new("allowPrivilegeEscalation", PodSecurityLevel.Restricted,
            [new(8, AllowPrivilegeEscalation), new(25, LinuxOnly(AllowPrivilegeEscalation))]),
        new("capabilities_restricted", PodSecurityLevel.Restricted,
            [new(22, Capabilities, ["capabilities_baseline"]), new(25, LinuxOnly(Capabilities), ["capabilities_baseline"])]),
        new("restrictedVolumes", PodSecurityLevel.Restricted, [new(0, Volumes, ["hostPathVolumes"])]),
        new("runAsNonRoot", PodSecurityLevel.Restricted, [new(0, RunAsNonRoot)]),
        new("runAsUser", PodSecurityLevel.Restricted, [new(23, RunAsUser)]),
        new("seccompProfile_restricted", PodSecurityLevel.Restricted,
            [new(19, Seccomp, ["seccompProfile_baseline"]), new(25, LinuxOnly(Seccomp), ["seccompProfile_baseline"])]),
    ];

    private static Func<V1ObjectMeta, V1PodSpec, CheckFailure?> LinuxOnly(Func<V1ObjectMeta, V1PodSpec, CheckFailure?> check) =>
        (meta, spec) => spec.Os?.Name == "windows" ? null : check(meta, spec);

    private static CheckFailure? AllowPrivilegeEscalation(V1ObjectMeta meta, V1PodSpec spec)
    {
        var containers = ContainerView.All(spec).Where(c => c.SecurityContext?.AllowPrivilegeEscalation != false)
            .Select(c => c.Name).ToList();
        return containers.Count == 0
            ? null
            : new CheckFailure("allowPrivilegeEscalation != false",
                $"{Containers(containers)} must set securityContext.allowPrivilegeEscalation=false");
    }

    private static CheckFailure? Capabilities(V1ObjectMeta meta, V1PodSpec spec)
    {
        var missingDropAll = new List<string>();
        var addingForbidden = new List<string>();
        var forbidden = SortedSet();
        foreach (var c in ContainerView.All(spec))
        {
            if (c.SecurityContext?.Capabilities is not { } capabilities)
            {
                missingDropAll.Add(c.Name);
                continue;
            }
            if (!(capabilities.Drop ?? []).Contains("ALL")) missingDropAll.Add(c.Name);
            var added = (capabilities.Add ?? []).Where(cap => cap != "NET_BIND_SERVICE").ToList();
            if (added.Count == 0) continue;
            addingForbidden.Add(c.Name);
            forbidden.UnionWith(added);
        }
        var details = new List<string>();
        if (missingDropAll.Count > 0)
            details.Add($"{Containers(missingDropAll)} must set securityContext.capabilities.drop=[\"ALL\"]");
        if (addingForbidden.Count > 0)
            details.Add($"{Containers(addingForbidden)} must not include {JoinQuote(forbidden)} in securityContext.capabilities.add");
        return details.Count == 0 ? null : new CheckFailure("unrestricted capabilities", string.Join("; ", details));
    }

    private static CheckFailure? Volumes(V1ObjectMeta meta, V1PodSpec spec)
    {
        var volumes = new List<string>();
        var types = SortedSet();
        foreach (var v in spec.Volumes ?? [])
        {
            if (v.ConfigMap is not null || v.Csi is not null || v.DownwardAPI is not null || v.EmptyDir is not null ||
                v.Ephemeral is not null || v.Image is not null || v.PersistentVolumeClaim is not null || v.Projected is not null ||
                v.Secret is not null)
                continue;
            volumes.Add(v.Name ?? "");
            types.Add(TypeOf(v));
        }
        return volumes.Count == 0
            ? null
            : new CheckFailure("restricted volume types",
                $"{Plural("volume", "volumes", volumes.Count)} {JoinQuote(volumes)} {Plural("uses", "use", volumes.Count)} " +
                $"{Plural("restricted volume type", "restricted volume types", types.Count)} {JoinQuote(types)}");
    }

    private static string TypeOf(V1Volume v) => v switch
    {
        { HostPath: not null } => "hostPath",
        { GcePersistentDisk: not null } => "gcePersistentDisk",
        { AwsElasticBlockStore: not null } => "awsElasticBlockStore",
        { GitRepo: not null } => "gitRepo",
        { Nfs: not null } => "nfs",
        { Iscsi: not null } => "iscsi",
        { Glusterfs: not null } => "glusterfs",
        { Rbd: not null } => "rbd",
        { FlexVolume: not null } => "flexVolume",
        { Cinder: not null } => "cinder",
        { Cephfs: not null } => "cephfs",
        { Flocker: not null } => "flocker",
        { Fc: not null } => "fc",
        { AzureFile: not null } => "azureFile",
        { VsphereVolume: not null } => "vsphereVolume",
        { Quobyte: not null } => "quobyte",
        { AzureDisk: not null } => "azureDisk",
        { PhotonPersistentDisk: not null } => "photonPersistentDisk",
        { PortworxVolume: not null } => "portworxVolume",
        { ScaleIO: not null } => "scaleIO",
        { Storageos: not null } => "storageos",
        _ => "unknown",
    };

    private static CheckFailure? RunAsNonRoot(V1ObjectMeta meta, V1PodSpec spec)
    {
        var setters = new List<string>();
        var podNonRoot = false;
        if (spec.SecurityContext?.RunAsNonRoot is { } podValue)
        {
            if (!podValue) setters.Add("pod");
            else podNonRoot = true;
        }
        var explicitlyBad = new List<string>();
        var implicitlyBad = new List<string>();
        foreach (var c in ContainerView.All(spec))
        {
            if (c.SecurityContext?.RunAsNonRoot is { } value)
            {
                if (!value) explicitlyBad.Add(c.Name);
            }
            else if (!podNonRoot) implicitlyBad.Add(c.Name);
        }
        if (explicitlyBad.Count > 0) setters.Add(Containers(explicitlyBad));
        if (setters.Count > 0)
            return new CheckFailure("runAsNonRoot != true", $"{string.Join(" and ", setters)} must not set securityContext.runAsNonRoot=false");
        return implicitlyBad.Count == 0
            ? null
            : new CheckFailure("runAsNonRoot != true", $"pod or {Containers(implicitlyBad)} must set securityContext.runAsNonRoot=true");
    }

    private static CheckFailure? RunAsUser(V1ObjectMeta meta, V1PodSpec spec)
    {
        var setters = new List<string>();
        if (spec.SecurityContext?.RunAsUser == 0) setters.Add("pod");
        var containers = ContainerView.All(spec).Where(c => c.SecurityContext?.RunAsUser == 0).Select(c => c.Name).ToList();
        if (containers.Count > 0) setters.Add(Containers(containers));
        return setters.Count == 0 ? null : new CheckFailure("runAsUser=0", $"{string.Join(" and ", setters)} must not set runAsUser=0");
    }

    private static CheckFailure? Seccomp(V1ObjectMeta meta, V1PodSpec spec)
    {
        var setters = new List<string>();
        var values = SortedSet();
        var podSet = false;
        if (spec.SecurityContext?.SeccompProfile is { } podProfile)
        {
            if (!BaselineChecks.ValidSeccomp(podProfile.Type))
            {
                setters.Add("pod");
                values.Add(podProfile.Type ?? "");
            }
            else podSet = true;
        }
        var explicitlyBad = new List<string>();
        var implicitlyBad = new List<string>();
        foreach (var c in ContainerView.All(spec))
        {
            if (c.SecurityContext?.SeccompProfile is { } profile)
            {
                if (BaselineChecks.ValidSeccomp(profile.Type)) continue;
                explicitlyBad.Add(c.Name);
                values.Add(profile.Type ?? "");
            }
            else if (!podSet) implicitlyBad.Add(c.Name);
        }
        if (explicitlyBad.Count > 0) setters.Add(Containers(explicitlyBad));
        if (setters.Count > 0)
            return new CheckFailure("seccompProfile",
                $"{string.Join(" and ", setters)} must not set securityContext.seccompProfile.type to {JoinQuote(values)}");
        return implicitlyBad.Count == 0
            ? null
            : new CheckFailure("seccompProfile",
                $"pod or {Containers(implicitlyBad)} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"");
    }
}
