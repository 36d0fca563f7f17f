using k8s.Models;
using static Orchestrator.Master.Admission.PodSecurity.CheckText;

namespace Orchestrator.Master.Admission.PodSecurity;

/// <summary>The baseline profile's checks as Kubernetes 1.32 evaluates them (policy/check_*.go), with kube's messages.</summary>
internal static class BaselineChecks
{
    private static readonly HashSet<string> DefaultCapabilities =
    [
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID",
        "SETPCAP", "SETUID", "SYS_CHROOT",
    ];

    private static readonly string[] Sysctls1_0 =
        ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
         "net.ipv4.ip_unprivileged_port_start"];
    private static readonly string[] Sysctls1_27 = [.. Sysctls1_0, "net.ipv4.ip_local_reserved_ports"];
    private static readonly string[] Sysctls1_29 =
        [.. Sysctls1_27, "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"];
    private static readonly string[] Sysctls1_32 = [.. Sysctls1_29, "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];

    private static readonly string[] SeLinuxTypes1_0 = ["", "container_t", "container_init_t", "container_kvm_t"];
    private static readonly string[] SeLinuxTypes1_31 = [.. SeLinuxTypes1_0, "container_engine_t"];

    public static readonly IReadOnlyList<PodSecurityCheck> All =
    [
        new("appArmorProfile", PodSecurityLevel.Baseline, [new(0, AppArmor)]),
        new("capabilities_baseline", PodSecurityLevel.Baseline, [new(0, Capabilities)]),
        new("hostNamespaces", PodSecurityLevel.Baseline, [new(0, HostNamespaces)]),
        new("hostPathVolumes", PodSecurityLevel.Baseline, [new(0, HostPathVolumes)]),
        new("hostPorts", PodSecurityLevel.Baseline, [new(0, HostPorts)]),
        new("privileged", PodSecurityLevel.Baseline, [new(0, Privileged)]),
        new("procMount", PodSecurityLevel.Baseline, [new(0, ProcMount)]),
        new("seLinuxOptions", PodSecurityLevel.Baseline,
            [new(0, (m, s) => SeLinux(s, SeLinuxTypes1_0)), new(31, (m, s) => SeLinux(s, SeLinuxTypes1_31))]),
        new("seccompProfile_baseline", PodSecurityLevel.Baseline, [new(0, SeccompAnnotations), new(19, Seccomp)]),
        new("sysctls", PodSecurityLevel.Baseline,
            [new(0, (m, s) => Sysctls(s, Sysctls1_0)), new(27, (m, s) => Sysctls(s, Sysctls1_27)),
             new(29, (m, s) => Sysctls(s, Sysctls1_29)), new(32, (m, s) => Sysctls(s, Sysctls1_32))]),
        new("windowsHostProcess", PodSecurityLevel.Baseline, [new(0, WindowsHostProcess)]),
    ];

    private static CheckFailure? AppArmor(V1ObjectMeta meta, V1PodSpec spec)
    {
        static bool Allowed(string? type) => type is "RuntimeDefault" or "Localhost";
        var setters = new List<string>();
        var values = SortedSet();
        if (spec.SecurityContext?.AppArmorProfile is { } podProfile && !Allowed(podProfile.Type))
        {
            setters.Add("pod");
            values.Add(podProfile.Type ?? "");
        }
        var containers = new List<string>();
        foreach (var c in ContainerView.All(spec))
            if (c.SecurityContext?.AppArmorProfile is { } profile && !Allowed(profile.Type))
            {
                containers.Add(c.Name);
                values.Add(profile.Type ?? "");
            }
        if (containers.Count > 0) setters.Add(Containers(containers));
        var annotations = (meta.Annotations ?? new Dictionary<string, string>())
            .Where(a => a.Key.StartsWith("container.apparmor.security.beta.kubernetes.io/", StringComparison.Ordinal) &&
                        !(a.Value.Length == 0 || a.Value == "runtime/default" || a.Value.StartsWith("localhost/", StringComparison.Ordinal)))
            .Select(a => $"{a.Key}={Quote(a.Value)}").Order(StringComparer.Ordinal).ToList();
        var valueList = values.ToList();
        if (annotations.Count > 0)
        {
            valueList.AddRange(annotations);
            setters.Add(Plural("annotation", "annotations", annotations.Count));
        }
        return setters.Count == 0
            ? null
            : new CheckFailure(Plural("forbidden AppArmor profile", "forbidden AppArmor profiles", valueList.Count),
                $"{string.Join(" and ", setters)} must not set AppArmor profile type to {JoinQuote(valueList)}");
    }

    private static CheckFailure? Capabilities(V1ObjectMeta meta, V1PodSpec spec)
    {
        var containers = new List<string>();
        var added = SortedSet();
        foreach (var c in ContainerView.All(spec))
        {
            var bad = (c.SecurityContext?.Capabilities?.Add ?? []).Where(cap => !DefaultCapabilities.Contains(cap)).ToList();
            if (bad.Count == 0) continue;
            containers.Add(c.Name);
            added.UnionWith(bad);
        }
        return containers.Count == 0
            ? null
            : new CheckFailure("non-default capabilities",
                $"{Containers(containers)} must not include {JoinQuote(added)} in securityContext.capabilities.add");
    }

    private static CheckFailure? HostNamespaces(V1ObjectMeta meta, V1PodSpec spec)
    {
        var used = new List<string>();
        if (spec.HostNetwork == true) used.Add("hostNetwork=true");
        if (spec.HostPID == true) used.Add("hostPID=true");
        if (spec.HostIPC == true) used.Add("hostIPC=true");
        return used.Count == 0 ? null : new CheckFailure("host namespaces", string.Join(", ", used));
    }

    private static CheckFailure? HostPathVolumes(V1ObjectMeta meta, V1PodSpec spec)
    {
        var volumes = (spec.Volumes ?? []).Where(v => v.HostPath is not null).Select(v => v.Name ?? "").ToList();
        return volumes.Count == 0
            ? null
            : new CheckFailure("hostPath volumes", $"{Plural("volume", "volumes", volumes.Count)} {JoinQuote(volumes)}");
    }

    private static CheckFailure? HostPorts(V1ObjectMeta meta, V1PodSpec spec)
    {
        var containers = new List<string>();
        var ports = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var c in ContainerView.All(spec))
        {
            var used = (c.Ports ?? []).Where(p => p.HostPort is { } h && h != 0).Select(p => p.HostPort!.Value.ToString()).ToList();
            if (used.Count == 0) continue;
            containers.Add(c.Name);
            ports.UnionWith(used);
        }
        return containers.Count == 0
            ? null
            : new CheckFailure("hostPort",
                $"{Containers(containers)} {Plural("uses", "use", containers.Count)} {Plural("hostPort", "hostPorts", ports.Count)} " +
                string.Join(", ", ports));
    }

    private static CheckFailure? Privileged(V1ObjectMeta meta, V1PodSpec spec)
    {
        var containers = ContainerView.All(spec).Where(c => c.SecurityContext?.Privileged == true).Select(c => c.Name).ToList();
        return containers.Count == 0
            ? null
            : new CheckFailure("privileged", $"{Containers(containers)} must not set securityContext.privileged=true");
    }

    private static CheckFailure? ProcMount(V1ObjectMeta meta, V1PodSpec spec)
    {
        var containers = new List<string>();
        var types = SortedSet();
        foreach (var c in ContainerView.All(spec))
            if (c.SecurityContext?.ProcMount is { } procMount && procMount != "Default")
            {
                containers.Add(c.Name);
                types.Add(procMount);
            }
        return containers.Count == 0
            ? null
            : new CheckFailure("procMount", $"{Containers(containers)} must not set securityContext.procMount to {JoinQuote(types)}");
    }

    private static CheckFailure? SeLinux(V1PodSpec spec, string[] allowedTypes)
    {
        var badTypes = SortedSet();
        bool setUser = false, setRole = false;
        bool Valid(V1SELinuxOptions options)
        {
            var valid = true;
            if (!allowedTypes.Contains(options.Type ?? ""))
            {
                valid = false;
                badTypes.Add(options.Type ?? "");
            }
            if (!string.IsNullOrEmpty(options.User))
            {
                valid = false;
                setUser = true;
            }
            if (!string.IsNullOrEmpty(options.Role))
            {
                valid = false;
                setRole = true;
            }
            return valid;
        }
        var setters = new List<string>();
        if (spec.SecurityContext?.SeLinuxOptions is { } podOptions && !Valid(podOptions)) setters.Add("pod");
        var containers = ContainerView.All(spec)
            .Where(c => c.SecurityContext?.SeLinuxOptions is { } o && !Valid(o)).Select(c => c.Name).ToList();
        if (containers.Count > 0) setters.Add(Containers(containers));
        if (setters.Count == 0) return null;
        var data = new List<string>();
        if (badTypes.Count > 0) data.Add($"{Plural("type", "types", badTypes.Count)} {JoinQuote(badTypes)}");
        if (setUser) data.Add("user may not be set");
        if (setRole) data.Add("role may not be set");
        return new CheckFailure("seLinuxOptions",
            $"{string.Join(" and ", setters)} set forbidden securityContext.seLinuxOptions: {string.Join("; ", data)}");
    }

    private const string SeccompPodAnnotation = "seccomp.security.alpha.kubernetes.io/pod";
    private const string SeccompContainerAnnotationPrefix = "container.seccomp.security.alpha.kubernetes.io/";

    /// <summary>Policy versions before 1.19 read seccomp from the alpha annotations.</summary>
    private static CheckFailure? SeccompAnnotations(V1ObjectMeta meta, V1PodSpec spec)
    {
        static bool Valid(string v) => v is "runtime/default" or "docker/default" || v.StartsWith("localhost/", StringComparison.Ordinal);
        var annotations = meta.Annotations ?? new Dictionary<string, string>();
        var forbidden = SortedSet();
        if (annotations.TryGetValue(SeccompPodAnnotation, out var value) && !Valid(value))
            forbidden.Add($"{SeccompPodAnnotation}={Quote(value)}");
        foreach (var c in ContainerView.All(spec))
        {
            var key = SeccompContainerAnnotationPrefix + c.Name;
            if (annotations.TryGetValue(key, out value) && !Valid(value)) forbidden.Add($"{key}={Quote(value)}");
        }
        return forbidden.Count == 0
            ? null
            : new CheckFailure("seccompProfile",
                $"forbidden {Plural("annotation", "annotations", forbidden.Count)} {string.Join(", ", forbidden)}");
    }

    internal static bool ValidSeccomp(string? type) => type is "Localhost" or "RuntimeDefault";

    private static CheckFailure? Seccomp(V1ObjectMeta meta, V1PodSpec spec)
    {
        var setters = new List<string>();
        var values = SortedSet();
        if (spec.SecurityContext?.SeccompProfile is { } podProfile && !ValidSeccomp(podProfile.Type))
        {
            setters.Add("pod");
            values.Add(podProfile.Type ?? "");
        }
        var containers = new List<string>();
        foreach (var c in ContainerView.All(spec))
            if (c.SecurityContext?.SeccompProfile is { } profile && !ValidSeccomp(profile.Type))
            {
                containers.Add(c.Name);
                values.Add(profile.Type ?? "");
            }
        if (containers.Count > 0) setters.Add(Containers(containers));
        return setters.Count == 0
            ? null
            : new CheckFailure("seccompProfile",
                $"{string.Join(" and ", setters)} must not set securityContext.seccompProfile.type to {JoinQuote(values)}");
    }

    private static CheckFailure? Sysctls(V1PodSpec spec, string[] allowed)
    {
        var forbidden = (spec.SecurityContext?.Sysctls ?? []).Select(s => s.Name ?? "").Where(n => !allowed.Contains(n)).ToList();
        return forbidden.Count == 0 ? null : new CheckFailure("forbidden sysctls", string.Join(", ", forbidden));
    }

    private static CheckFailure? WindowsHostProcess(V1ObjectMeta meta, V1PodSpec spec)
    {
        var containers = ContainerView.All(spec).Where(c => c.SecurityContext?.WindowsOptions?.HostProcess == true)
            .Select(c => c.Name).ToList();
        var setters = new List<string>();
        if (spec.SecurityContext?.WindowsOptions?.HostProcess == true) setters.Add("pod");
        if (containers.Count > 0) setters.Add(Containers(containers));
        return setters.Count == 0
            ? null
            : new CheckFailure("hostProcess",
                $"{string.Join(" and ", setters)} must not set securityContext.windowsOptions.hostProcess=true");
    }
}
