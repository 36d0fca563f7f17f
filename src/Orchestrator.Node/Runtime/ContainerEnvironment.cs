using System.Text;
using k8s.Models;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// Resolves a container's <c>env</c> into NAME=value strings the way the kubelet does for the cases we support:
/// plain values with <c>$(VAR)</c> expansion of earlier variables, and the downward API fieldRefs that are known
/// before the container starts — which includes <c>status.podIP</c>: the pod's sandbox holds the IP and runs before
/// any of the pod's containers is created (empty only for a container created without a sandbox).
/// </summary>
internal static class ContainerEnvironment
{
    public static List<string> Resolve(V1Pod pod, V1Container container, string nodeName, string hostAddress, string? podIp = null)
    {
        var values = new List<KeyValuePair<string, string>>();
        var known = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var env in container.Env ?? [])
        {
            string? value = env.ValueFrom?.FieldRef is { } fieldRef
                ? FieldValue(pod, fieldRef.FieldPath, nodeName, hostAddress, podIp ?? "")
                : env.ValueFrom is null ? Expand(env.Value ?? "", known) : null;
            if (value is null) continue; // secretKeyRef/configMapKeyRef/resourceFieldRef: not served yet
            known[env.Name] = value;
            values.Add(new(env.Name, value));
        }
        return values.Select(kv => $"{kv.Key}={kv.Value}").ToList();
    }

    private static string? FieldValue(V1Pod pod, string path, string nodeName, string hostAddress, string podIp) => path switch
    {
        "metadata.name" => pod.Metadata.Name,
        "metadata.namespace" => pod.Metadata.NamespaceProperty ?? "default",
        "metadata.uid" => pod.Metadata.Uid,
        "spec.nodeName" => nodeName,
        "spec.serviceAccountName" => pod.Spec.ServiceAccountName ?? "default",
        // single-stack: the lists hold the one address
        "status.hostIP" or "status.hostIPs" => hostAddress,
        "status.podIP" or "status.podIPs" => podIp,
        _ when path.StartsWith("metadata.labels['", StringComparison.Ordinal) =>
            Lookup(pod.Metadata.Labels, path["metadata.labels['".Length..^2]),
        _ when path.StartsWith("metadata.annotations['", StringComparison.Ordinal) =>
            Lookup(pod.Metadata.Annotations, path["metadata.annotations['".Length..^2]),
        _ => null,
    };

    private static string Lookup(IDictionary<string, string>? map, string key) =>
        map is not null && map.TryGetValue(key, out var v) ? v : "";

    /// <summary>$(VAR) → value of an earlier VAR; $$ escapes; unknown references stay as written (Kubernetes' rule).</summary>
    internal static string Expand(string input, IReadOnlyDictionary<string, string> known)
    {
        if (!input.Contains('$')) return input;
        var sb = new StringBuilder();
        for (var i = 0; i < input.Length; i++)
        {
            if (input[i] != '$' || i + 1 >= input.Length) { sb.Append(input[i]); continue; }
            if (input[i + 1] == '$') { sb.Append('$'); i++; continue; }
            var close = input[i + 1] == '(' ? input.IndexOf(')', i + 2) : -1;
            if (close < 0) { sb.Append(input[i]); continue; }
            var name = input[(i + 2)..close];
            sb.Append(known.TryGetValue(name, out var v) ? v : input[i..(close + 1)]);
            i = close;
        }
        return sb.ToString();
    }
}
