using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Admission.Pods;

/// <summary>
/// The warnings kube-apiserver 1.32 gives for a pod or a pod template (pkg/api/pod/warnings.go, and the AppArmor
/// annotation's from the pod strategy), which kubectl prints as "Warning: …": deprecated node labels in node selectors,
/// node affinity and topology spread keys, deprecated annotations (the seccomp and AppArmor ones, critical-pod,
/// sysctls), deprecated volume plugins, duplicate host aliases, pull secrets, env names and ports, fractional byte
/// quantities, a negative grace period, and null label selectors that match nothing. A pod is judged when created, a
/// workload's template when created or changed (as the kinds' WarningsOnCreate/WarningsOnUpdate). Never refuses.
/// </summary>
internal sealed class PodSpecWarnings : IValidatingAdmission
{
    private static readonly Dictionary<string, string> DeprecatedNodeLabels = new()
    {
        ["beta.kubernetes.io/arch"] = "deprecated since v1.14; use \"kubernetes.io/arch\" instead",
        ["beta.kubernetes.io/os"] = "deprecated since v1.14; use \"kubernetes.io/os\" instead",
        ["failure-domain.beta.kubernetes.io/region"] = "deprecated since v1.17; use \"topology.kubernetes.io/region\" instead",
        ["failure-domain.beta.kubernetes.io/zone"] = "deprecated since v1.17; use \"topology.kubernetes.io/zone\" instead",
        ["beta.kubernetes.io/instance-type"] = "deprecated since v1.17; use \"node.kubernetes.io/instance-type\" instead",
    };

    private static readonly (string Key, string Message)[] DeprecatedAnnotations =
    [
        ("scheduler.alpha.kubernetes.io/critical-pod", "non-functional in v1.16+; use the \"priorityClassName\" field instead"),
        ("security.alpha.kubernetes.io/sysctls", "non-functional in v1.11+; use the \"sysctls\" field instead"),
        ("security.alpha.kubernetes.io/unsafe-sysctls", "non-functional in v1.11+; use the \"sysctls\" field instead"),
    ];

    private const string SeccompPodAnnotation = "seccomp.security.alpha.kubernetes.io/pod";
    private const string SeccompContainerAnnotationPrefix = "container.seccomp.security.alpha.kubernetes.io/";
    private const string AppArmorAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/";

    public AdmissionVerdict? Validate(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (attributes.Subresource is not null) return null;
        var create = attributes.Operation == AdmissionAttributes.Create;
        var (template, path) = Template(attributes.Object);
        if (attributes.Object is V1Pod pod)
        {
            if (!create) return null; // kube's pod strategy gives no warnings on update (a high-frequency path)
            return Verdict(For(pod.Spec, pod.Metadata, ""));
        }
        if (template is null) return null;
        // on update only when the template changed (kube's strategies: when the generation moved)
        if (!create && attributes.Old is { } old && KubeObjects.SameJson(Template(old).Template, template)) return null;
        return Verdict(For(template.Spec, template.Metadata, path));
    }

    private static AdmissionVerdict? Verdict(List<string> warnings) =>
        warnings.Count == 0 ? null : new AdmissionVerdict(null, warnings, new Dictionary<string, string>());

    private static (V1PodTemplateSpec? Template, string Path) Template(IKubernetesObject<V1ObjectMeta> obj) => obj switch
    {
        V1Deployment d => (d.Spec?.Template, "spec.template."),
        V1ReplicaSet r => (r.Spec?.Template, "spec.template."),
        V1StatefulSet s => (s.Spec?.Template, "spec.template."),
        V1DaemonSet d => (d.Spec?.Template, "spec.template."),
        V1Job j => (j.Spec?.Template, "spec.template."),
        V1CronJob c => (c.Spec?.JobTemplate?.Spec?.Template, "spec.jobTemplate.spec.template."),
        V1ReplicationController r => (r.Spec?.Template, "spec.template."),
        V1PodTemplate t => (t.Template, "template."),
        _ => (null, ""),
    };

    /// <summary>warningsForPodSpecAndMeta, in its order; <paramref name="at"/> is the template's path with a trailing
    /// dot ("" for a pod).</summary>
    internal static List<string> For(V1PodSpec? spec, V1ObjectMeta? meta, string at)
    {
        var warnings = new List<string>();
        if (spec is null) return warnings;
        var annotations = meta?.Annotations ?? new Dictionary<string, string>();

        foreach (var key in (spec.NodeSelector?.Keys ?? []).Order(StringComparer.Ordinal))
            if (DeprecatedNodeLabels.TryGetValue(key, out var message)) warnings.Add($"{at}spec.nodeSelector[{key}]: {message}");
        if (spec.Affinity?.NodeAffinity is { } nodeAffinity)
        {
            var terms = nodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms ?? [];
            for (var i = 0; i < terms.Count; i++)
                warnings.AddRange(NodeSelectorTerm(terms[i],
                    $"{at}spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}]"));
            var preferred = nodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution ?? [];
            for (var i = 0; i < preferred.Count; i++)
                warnings.AddRange(NodeSelectorTerm(preferred[i]?.Preference,
                    $"{at}spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[{i}].preference"));
        }
        var spread = spec.TopologySpreadConstraints ?? [];
        for (var i = 0; i < spread.Count; i++)
        {
            if (spread[i]?.TopologyKey is { } key && DeprecatedNodeLabels.TryGetValue(key, out var message))
                warnings.Add($"{at}spec.topologySpreadConstraints[{i}].topologyKey: {key} is {message}");
            if (spread[i]?.LabelSelector is null)
                warnings.Add($"{at}spec.topologySpreadConstraints[{i}].labelSelector: a null labelSelector results in matching no pod");
        }

        foreach (var (key, message) in DeprecatedAnnotations)
            if (annotations.ContainsKey(key)) warnings.Add($"{at}metadata.annotations[{key}]: {message}");

        var volumes = spec.Volumes ?? [];
        for (var i = 0; i < volumes.Count; i++)
        {
            var v = volumes[i];
            if (v is null) continue;
            void Deprecated(object? source, string name, string message)
            {
                if (source is not null) warnings.Add($"{at}spec.volumes[{i}].{name}: {message}");
            }
            Deprecated(v.PhotonPersistentDisk, "photonPersistentDisk", "deprecated in v1.11, non-functional in v1.16+");
            Deprecated(v.GitRepo, "gitRepo", "deprecated in v1.11");
            Deprecated(v.ScaleIO, "scaleIO", "deprecated in v1.16, non-functional in v1.22+");
            Deprecated(v.Flocker, "flocker", "deprecated in v1.22, non-functional in v1.25+");
            Deprecated(v.Storageos, "storageOS", "deprecated in v1.22, non-functional in v1.25+");
            Deprecated(v.Quobyte, "quobyte", "deprecated in v1.22, non-functional in v1.25+");
            Deprecated(v.Glusterfs, "glusterfs", "deprecated in v1.25, non-functional in v1.26+");
            Deprecated(v.Cephfs, "cephfs", "deprecated in v1.28, non-functional in v1.31+");
            Deprecated(v.Rbd, "rbd", "deprecated in v1.28, non-functional in v1.31+");
        }

        var aliases = spec.HostAliases ?? [];
        var ips = new HashSet<string>();
        for (var i = 0; i < aliases.Count && aliases.Count > 1; i++)
            if (!ips.Add(aliases[i]?.Ip ?? "")) warnings.Add($"{at}spec.hostAliases[{i}].ip: duplicate ip \"{aliases[i]?.Ip}\"");
        var secrets = spec.ImagePullSecrets ?? [];
        var names = new HashSet<string>();
        for (var i = 0; i < secrets.Count && secrets.Count > 1; i++)
            if (!names.Add(secrets[i]?.Name ?? "")) warnings.Add($"{at}spec.imagePullSecrets[{i}].name: duplicate name \"{secrets[i]?.Name}\"");
        for (var i = 0; i < secrets.Count; i++)
            if (string.IsNullOrEmpty(secrets[i]?.Name)) warnings.Add($"{at}spec.imagePullSecrets[{i}].name: invalid empty name \"\"");

        foreach (var resource in new[] { "memory", "ephemeral-storage" })
            if (spec.Overhead?.TryGetValue(resource, out var value) == true && Fractional(value))
                warnings.Add($"{at}spec.overhead[{resource}]: fractional byte value \"{value}\" is invalid, must be an integer");

        if (spec.SecurityContext?.SeccompProfile is null && annotations.ContainsKey(SeccompPodAnnotation))
            warnings.Add($"{at}metadata.annotations[{SeccompPodAnnotation}]: non-functional in v1.27+; use the \"seccompProfile\" field instead");
        var podAppArmor = spec.SecurityContext?.AppArmorProfile is not null;
        var ports = new Dictionary<string, List<(string Path, V1ContainerPort Port)>>();
        foreach (var (container, path) in Containers(spec, at))
        {
            if (container.SecurityContext?.SeccompProfile is null && annotations.ContainsKey(SeccompContainerAnnotationPrefix + container.Name))
                warnings.Add($"{at}metadata.annotations[{SeccompContainerAnnotationPrefix}{container.Name}]: non-functional in v1.27+; use the \"seccompProfile\" field instead");
            // a pod's are given by its strategy, which saw the annotations before syncing them to fields (AppArmorVersionSkew)
            if (at.Length > 0 && !podAppArmor && container.SecurityContext?.AppArmorProfile is null && annotations.ContainsKey(AppArmorAnnotationPrefix + container.Name))
                warnings.Add($"{at}metadata.annotations[{AppArmorAnnotationPrefix}{container.Name}]: deprecated since v1.30; use the \"appArmorProfile\" field instead");
            foreach (var (kind, list) in new[] { ("limits", container.Resources?.Limits), ("requests", container.Resources?.Requests) })
                foreach (var resource in new[] { "memory", "ephemeral-storage" })
                    if (list?.TryGetValue(resource, out var value) == true && Fractional(value))
                        warnings.Add($"{path}.resources.{kind}[{resource}]: fractional byte value \"{value}\" is invalid, must be an integer");
            var env = container.Env ?? [];
            var seen = new HashSet<string>();
            for (var i = 0; i < env.Count && env.Count > 1; i++)
            {
                var item = env[i];
                if (item is null || seen.Add(item.Name ?? "")) continue;
                var reference = $"$({item.Name})";
                var value = item.Value ?? "";
                if (item.ValueFrom is not null || value == reference || !value.Contains(reference, StringComparison.Ordinal))
                    warnings.Add($"{path}.env[{i}]: hides previous definition of \"{item.Name}\", which may be dropped when using apply");
            }
        }
        foreach (var (container, path) in Containers(spec, at))
        {
            var list = container.Ports ?? [];
            for (var i = 0; i < list.Count; i++)
            {
                var port = list[i];
                if (port is null) continue;
                var here = $"{path}.ports[{i}]";
                if (!string.IsNullOrEmpty(port.HostIP) && (port.HostPort ?? 0) == 0)
                    warnings.Add($"{here}: hostIP set without hostPort: {{Name:{port.Name} HostPort:{port.HostPort ?? 0} ContainerPort:{port.ContainerPort} Protocol:{port.Protocol} HostIP:{port.HostIP}}}");
                var key = $"{port.ContainerPort}/{port.Protocol}";
                if (!ports.TryGetValue(key, out var others)) ports[key] = others = [];
                foreach (var other in others)
                {
                    var (hostIp, otherIp) = (port.HostIP ?? "", other.Port.HostIP ?? "");
                    var (hostPort, otherPort) = (port.HostPort ?? 0, other.Port.HostPort ?? 0);
                    if (hostIp == otherIp && hostPort == otherPort)
                        warnings.Add($"{here}: duplicate port definition with {other.Path}");
                    else if (hostPort == 0 || otherPort == 0)
                        warnings.Add($"{here}: overlapping port definition with {other.Path}");
                    else if (hostPort == otherPort && (hostIp.Length == 0) != (otherIp.Length == 0))
                        warnings.Add($"{here}: dangerously ambiguous port definition with {other.Path}");
                }
                others.Add((here, port));
            }
        }

        if (spec.TerminationGracePeriodSeconds is < 0)
            warnings.Add($"{at}spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1");
        NullSelectors(spec.Affinity?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution,
            spec.Affinity?.PodAffinity?.PreferredDuringSchedulingIgnoredDuringExecution, $"{at}spec.affinity.podAffinity", warnings);
        NullSelectors(spec.Affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution,
            spec.Affinity?.PodAntiAffinity?.PreferredDuringSchedulingIgnoredDuringExecution, $"{at}spec.affinity.podAntiAffinity", warnings);
        return warnings;
    }

    private static void NullSelectors(IList<V1PodAffinityTerm>? required, IList<V1WeightedPodAffinityTerm>? preferred, string at,
        List<string> warnings)
    {
        for (var i = 0; i < (required?.Count ?? 0); i++)
            if (required![i]?.LabelSelector is null)
                warnings.Add($"{at}.requiredDuringSchedulingIgnoredDuringExecution[{i}].labelSelector: a null labelSelector results in matching no pod");
        for (var i = 0; i < (preferred?.Count ?? 0); i++)
            if (preferred![i]?.PodAffinityTerm?.LabelSelector is null)
                warnings.Add($"{at}.preferredDuringSchedulingIgnoredDuringExecution[{i}].podAffinityTerm.labelSelector: a null labelSelector results in matching no pod");
    }

    private static IEnumerable<string> NodeSelectorTerm(V1NodeSelectorTerm? term, string at)
    {
        var expressions = term?.MatchExpressions ?? [];
        for (var i = 0; i < expressions.Count; i++)
            if (expressions[i]?.Key is { } key && DeprecatedNodeLabels.TryGetValue(key, out var message))
                yield return $"{at}.matchExpressions[{i}].key: {key} is {message}";
    }

    /// <summary>The containers as VisitContainersWithPath visits them: init containers, containers, ephemeral ones.</summary>
    private static IEnumerable<(V1Container Container, string Path)> Containers(V1PodSpec spec, string at)
    {
        for (var i = 0; i < (spec.InitContainers?.Count ?? 0); i++)
            if (spec.InitContainers![i] is { } c) yield return (c, $"{at}spec.initContainers[{i}]");
        for (var i = 0; i < (spec.Containers?.Count ?? 0); i++)
            if (spec.Containers![i] is { } c) yield return (c, $"{at}spec.containers[{i}]");
        for (var i = 0; i < (spec.EphemeralContainers?.Count ?? 0); i++)
            if (spec.EphemeralContainers![i] is { } e)
                yield return (new V1Container { Name = e.Name, SecurityContext = e.SecurityContext, Resources = e.Resources, Env = e.Env, Ports = e.Ports },
                    $"{at}spec.ephemeralContainers[{i}]");
    }

    /// <summary>A byte quantity with a fraction of a byte (MilliValue % 1000 != 0).</summary>
    private static bool Fractional(ResourceQuantity? quantity)
    {
        if (quantity is null) return false;
        try
        {
            var value = quantity.ToDecimal();
            return value != decimal.Truncate(value);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            return false;
        }
    }
}
