using k8s.Models;

namespace Orchestrator.Master.ControlLoop;

/// <summary>
/// The ConfigMaps and Secrets a pod references — env <c>valueFrom</c>, <c>envFrom</c>, configMap/secret volumes and
/// projected sources, of every container, and the imagePullSecrets — which is what the Node authorizer lets the pod's
/// node read, and so all the gateway sends that node.
/// </summary>
internal static class PodReferences
{
    public static IEnumerable<string> ConfigMaps(V1Pod pod)
    {
        var spec = pod.Spec;
        if (spec is null) yield break;
        foreach (var c in Containers(spec))
        {
            foreach (var env in c.Env ?? [])
                if (env.ValueFrom?.ConfigMapKeyRef?.Name is { Length: > 0 } name) yield return name;
            foreach (var from in c.EnvFrom ?? [])
                if (from.ConfigMapRef?.Name is { Length: > 0 } name) yield return name;
        }
        foreach (var volume in spec.Volumes ?? [])
        {
            if (volume.ConfigMap?.Name is { Length: > 0 } name) yield return name;
            foreach (var source in volume.Projected?.Sources ?? [])
                if (source.ConfigMap?.Name is { Length: > 0 } projected) yield return projected;
        }
    }

    public static IEnumerable<string> Secrets(V1Pod pod)
    {
        var spec = pod.Spec;
        if (spec is null) yield break;
        foreach (var c in Containers(spec))
        {
            foreach (var env in c.Env ?? [])
                if (env.ValueFrom?.SecretKeyRef?.Name is { Length: > 0 } name) yield return name;
            foreach (var from in c.EnvFrom ?? [])
                if (from.SecretRef?.Name is { Length: > 0 } name) yield return name;
        }
        foreach (var volume in spec.Volumes ?? [])
        {
            if (volume.Secret?.SecretName is { Length: > 0 } name) yield return name;
            foreach (var source in volume.Projected?.Sources ?? [])
                if (source.Secret?.Name is { Length: > 0 } projected) yield return projected;
        }
        foreach (var pullSecret in spec.ImagePullSecrets ?? [])
            if (pullSecret.Name is { Length: > 0 } name) yield return name;
    }

    /// <summary>True when the pod references the ConfigMap (<paramref name="secret"/> false) or Secret named so.</summary>
    public static bool Uses(V1Pod pod, string? ns, string name, bool secret) =>
        (pod.Metadata.NamespaceProperty ?? "default") == (ns ?? "default") && (secret ? Secrets(pod) : ConfigMaps(pod)).Contains(name);

    private static IEnumerable<V1Container> Containers(V1PodSpec spec) =>
        (spec.InitContainers ?? []).Concat(spec.Containers ?? []).Concat((spec.EphemeralContainers ?? []).Select(e => new V1Container
        {
            Name = e.Name, Env = e.Env, EnvFrom = e.EnvFrom,
        }));
}
