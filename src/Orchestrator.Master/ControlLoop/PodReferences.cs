using k8s.Models;

namespace Orchestrator.Master.ControlLoop;

/// <summary>
/// The ConfigMaps and Secrets a pod references — env <c>valueFrom</c>, <c>envFrom</c>, configMap/secret volumes and
/// projected sources, of every container, and the imagePullSecrets — which is what the Node authorizer lets the pod's
/// node read, and so all the gateway sends that node.
/// </summary>
internal static class PodReferences
{
    public static IEnumerable<string> ConfigMaps(V1Pod pod) => Names(pod, secrets: false);

    public static IEnumerable<string> Secrets(V1Pod pod) => Names(pod, secrets: true);

    /// <summary>The names in the order a walk finds them: each container's (init, then regular, then ephemeral) env
    /// <c>valueFrom</c> and <c>envFrom</c>, the volumes and their projected sources, then (Secrets) the imagePullSecrets.
    /// Index loops and a list made only when a name is found: the node gateway asks this of every pod of a node on each
    /// change of one of them, and the iterators over <c>?? []</c> lists were ≈ 3.7 KB per pod change.</summary>
    private static IReadOnlyList<string> Names(V1Pod pod, bool secrets)
    {
        var spec = pod.Spec;
        if (spec is null) return [];
        List<string>? names = null;
        if (spec.InitContainers is { } initContainers)
            for (var i = 0; i < initContainers.Count; i++)
                if (initContainers[i] is { } c) FromEnv(c.Env, c.EnvFrom, secrets, ref names);
        if (spec.Containers is { } containers)
            for (var i = 0; i < containers.Count; i++)
                if (containers[i] is { } c) FromEnv(c.Env, c.EnvFrom, secrets, ref names);
        if (spec.EphemeralContainers is { } ephemeral)
            for (var i = 0; i < ephemeral.Count; i++)
                if (ephemeral[i] is { } c) FromEnv(c.Env, c.EnvFrom, secrets, ref names);
        if (spec.Volumes is { } volumes)
            for (var i = 0; i < volumes.Count; i++)
            {
                var volume = volumes[i];
                if ((secrets ? volume?.Secret?.SecretName : volume?.ConfigMap?.Name) is { Length: > 0 } name) Add(ref names, name);
                if (volume?.Projected?.Sources is not { } sources) continue;
                for (var j = 0; j < sources.Count; j++)
                    if ((secrets ? sources[j]?.Secret?.Name : sources[j]?.ConfigMap?.Name) is { Length: > 0 } projected) Add(ref names, projected);
            }
        if (secrets && spec.ImagePullSecrets is { } pullSecrets)
            for (var i = 0; i < pullSecrets.Count; i++)
                if (pullSecrets[i]?.Name is { Length: > 0 } name) Add(ref names, name);
        return names ?? (IReadOnlyList<string>)[];
    }

    private static void FromEnv(IList<V1EnvVar>? env, IList<V1EnvFromSource>? envFrom, bool secrets, ref List<string>? names)
    {
        if (env is not null)
            for (var i = 0; i < env.Count; i++)
                if ((secrets ? env[i]?.ValueFrom?.SecretKeyRef?.Name : env[i]?.ValueFrom?.ConfigMapKeyRef?.Name) is { Length: > 0 } name) Add(ref names, name);
        if (envFrom is not null)
            for (var i = 0; i < envFrom.Count; i++)
                if ((secrets ? envFrom[i]?.SecretRef?.Name : envFrom[i]?.ConfigMapRef?.Name) is { Length: > 0 } name) Add(ref names, name);
    }

    private static void Add(ref List<string>? names, string name) => (names ??= new List<string>(2)).Add(name);

    /// <summary>True when the pod references the ConfigMap (<paramref name="secret"/> false) or Secret named so.</summary>
    public static bool Uses(V1Pod pod, string? ns, string name, bool secret) =>
        (pod.Metadata.NamespaceProperty ?? "default") == (ns ?? "default") && (secret ? Secrets(pod) : ConfigMaps(pod)).Contains(name);
}
