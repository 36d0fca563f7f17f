using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using k8s.Models;
using Orchestrator.Node.Config;

namespace Orchestrator.Node.Runtime;

/// <summary>What a container's environment is made from besides its spec: the node, the pod's IP, the ConfigMaps and
/// Secrets the node holds for its pods, the Services' variables (enableServiceLinks) and the node's allocatable resources
/// (the limits of a container that sets none, for resourceFieldRef).</summary>
internal sealed record EnvironmentSources(string NodeName, string HostAddress, string? PodIp = null, ConfigDirectory? Configs = null,
    IReadOnlyDictionary<string, string>? ServiceVariables = null, IReadOnlyDictionary<string, ResourceQuantity>? Allocatable = null);

/// <summary>A container's variables, in order (service variables first, then envFrom and env), and the kubelet's events
/// about them (keys skipped as invalid names).</summary>
internal sealed record ResolvedEnvironment(IReadOnlyList<KeyValuePair<string, string>> Variables, IReadOnlyList<string> InvalidNameWarnings)
{
    public List<string> AsDockerEnv() => Variables.Select(kv => $"{kv.Key}={kv.Value}").ToList();
}

/// <summary>
/// A container's environment as the kubelet makes it (makeEnvironmentVariables): <c>envFrom</c> ConfigMaps and Secrets
/// (with prefix; keys that are not variable names are skipped and reported), then <c>env</c> in order — plain values with
/// <c>$(VAR)</c> expansion of what is defined so far and the service variables, <c>valueFrom</c> configMapKeyRef and
/// secretKeyRef (<c>optional</c>), the downward API fieldRefs and resourceFieldRefs — then the service variables not
/// defined by the container. A missing non-optional ConfigMap, Secret or key throws <see cref="ContainerConfigException"/>
/// with the kubelet's message (the container waits in CreateContainerConfigError and is tried again).
/// </summary>
internal static partial class ContainerEnvironment
{
    /// <summary>Without config sources (runtime tests): what the spec alone gives.</summary>
    public static List<string> Resolve(V1Pod pod, V1Container container, string nodeName, string hostAddress, string? podIp = null) =>
        Resolve(pod, container, new EnvironmentSources(nodeName, hostAddress, podIp)).AsDockerEnv();

    public static ResolvedEnvironment Resolve(V1Pod pod, V1Container container, EnvironmentSources sources)
    {
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        var order = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var warnings = new List<string>();
        void Set(string name, string value)
        {
            if (!values.ContainsKey(name)) order.Add(name);
            values[name] = value;
        }

        foreach (var from in container.EnvFrom ?? [])
        {
            IEnumerable<KeyValuePair<string, string>> entries;
            string kind, name;
            if (from.ConfigMapRef is { } cmRef)
            {
                (kind, name) = ("configMap", cmRef.Name);
                var cm = sources.Configs?.ConfigMap(ns, cmRef.Name);
                if (cm is null)
                {
                    if (cmRef.Optional == true) continue;
                    throw new ContainerConfigException($"configmap \"{cmRef.Name}\" not found");
                }
                entries = cm.Data ?? new Dictionary<string, string>();
            }
            else if (from.SecretRef is { } secretRef)
            {
                (kind, name) = ("secret", secretRef.Name);
                var secret = sources.Configs?.Secret(ns, secretRef.Name);
                if (secret is null)
                {
                    if (secretRef.Optional == true) continue;
                    throw new ContainerConfigException($"secret \"{secretRef.Name}\" not found");
                }
                entries = (secret.Data ?? new Dictionary<string, byte[]>()).Select(kv => KeyValuePair.Create(kv.Key, Encoding.UTF8.GetString(kv.Value)));
            }
            else continue;
            var invalid = new List<string>();
            foreach (var (key, value) in entries.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var variable = (from.Prefix ?? "") + key;
                if (!IsEnvVarName(variable))
                {
                    invalid.Add(variable);
                    continue;
                }
                Set(variable, value);
            }
            if (invalid.Count > 0)
                warnings.Add($"Keys [{string.Join(", ", invalid.Order(StringComparer.Ordinal))}] from the EnvFrom {kind} {ns}/{name} were skipped since they are considered invalid environment variable names.");
        }

        var services = sources.ServiceVariables ?? new Dictionary<string, string>();
        foreach (var env in container.Env ?? [])
        {
            var value = env.Value ?? "";
            if (value.Length > 0) value = Expand(value, new EnvLookup(values, services));
            else if (env.ValueFrom is { } from)
            {
                // an optional reference that is missing leaves the variable unset (the kubelet's continue)
                if (ValueFrom(pod, container, from, sources, ns) is not { } resolved) continue;
                value = resolved;
            }
            Set(env.Name, value);
        }

        var result = services.Where(kv => !values.ContainsKey(kv.Key)).ToList();
        result.AddRange(order.Select(n => KeyValuePair.Create(n, values[n])));
        return new ResolvedEnvironment(result, warnings);
    }

    private static string? ValueFrom(V1Pod pod, V1Container container, V1EnvVarSource from, EnvironmentSources sources, string ns)
    {
        if (from.FieldRef is { } fieldRef)
            return FieldValue(pod, fieldRef.FieldPath, sources.NodeName, sources.HostAddress, sources.PodIp ?? "")
                   ?? throw new ContainerConfigException($"unsupported fieldPath: {fieldRef.FieldPath}");
        if (from.ResourceFieldRef is { } resourceRef)
            return ResourceValue(resourceRef, container, sources.Allocatable);
        if (from.ConfigMapKeyRef is { } cmKey)
        {
            var cm = sources.Configs?.ConfigMap(ns, cmKey.Name);
            if (cm is null)
                return cmKey.Optional == true ? null : throw new ContainerConfigException($"configmap \"{cmKey.Name}\" not found");
            if (cm.Data?.TryGetValue(cmKey.Key, out var value) == true) return value;
            return cmKey.Optional == true ? null : throw new ContainerConfigException($"couldn't find key {cmKey.Key} in ConfigMap {ns}/{cmKey.Name}");
        }
        if (from.SecretKeyRef is { } secretKey)
        {
            var secret = sources.Configs?.Secret(ns, secretKey.Name);
            if (secret is null)
                return secretKey.Optional == true ? null : throw new ContainerConfigException($"secret \"{secretKey.Name}\" not found");
            if (secret.Data?.TryGetValue(secretKey.Key, out var bytes) == true) return Encoding.UTF8.GetString(bytes);
            return secretKey.Optional == true ? null : throw new ContainerConfigException($"couldn't find key {secretKey.Key} in Secret {ns}/{secretKey.Name}");
        }
        return "";
    }

    /// <summary>The downward API's fields for env (fieldpath.ExtractFieldPathAsString and the kubelet's status fields);
    /// null for a path it does not know.</summary>
    internal static string? FieldValue(V1Pod pod, string path, string nodeName, string hostAddress, string podIp) => path switch
    {
        "metadata.name" => pod.Metadata.Name,
        "metadata.namespace" => pod.Metadata.NamespaceProperty ?? "default",
        "metadata.uid" => pod.Metadata.Uid,
        "metadata.labels" => FormatMap(pod.Metadata.Labels),
        "metadata.annotations" => FormatMap(pod.Metadata.Annotations),
        "spec.nodeName" => nodeName,
        "spec.serviceAccountName" => pod.Spec.ServiceAccountName ?? "default",
        // single-stack: the lists hold the one address
        "status.hostIP" or "status.hostIPs" => hostAddress,
        "status.podIP" or "status.podIPs" => podIp,
        _ when path.StartsWith("metadata.labels['", StringComparison.Ordinal) && path.EndsWith("']", StringComparison.Ordinal) =>
            Lookup(pod.Metadata.Labels, path["metadata.labels['".Length..^2]),
        _ when path.StartsWith("metadata.annotations['", StringComparison.Ordinal) && path.EndsWith("']", StringComparison.Ordinal) =>
            Lookup(pod.Metadata.Annotations, path["metadata.annotations['".Length..^2]),
        _ => null,
    };

    private static string Lookup(IDictionary<string, string>? map, string key) =>
        map is not null && map.TryGetValue(key, out var v) ? v : "";

    /// <summary>Kubernetes' FormatMap: <c>key="value"</c> lines in key order, the values quoted as Go's %q.</summary>
    internal static string FormatMap(IDictionary<string, string>? map) =>
        string.Join('\n', (map ?? new Dictionary<string, string>()).OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key}={GoQuote(kv.Value)}"));

    private static string GoQuote(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (var ch in value)
            sb.Append(ch switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\a' => "\\a",
                '\b' => "\\b",
                '\f' => "\\f",
                '\v' => "\\v",
                < ' ' or '\x7f' => $"\\x{(int)ch:x2}",
                _ => ch.ToString(),
            });
        return sb.Append('"').ToString();
    }

    /// <summary>resourceFieldRef: the container's limit (the node's allocatable when it sets none, as the kubelet defaults
    /// it) or request, divided by the divisor (default 1) and rounded up.</summary>
    internal static string ResourceValue(V1ResourceFieldSelector selector, V1Container container, IReadOnlyDictionary<string, ResourceQuantity>? allocatable)
    {
        var divisor = selector.Divisor is { } d && d.ToDecimal() != 0 ? d.ToDecimal() : 1m;
        var parts = selector.Resource.Split('.', 2);
        if (parts.Length != 2 || parts[0] is not ("limits" or "requests") || parts[1] is not ("cpu" or "memory" or "ephemeral-storage"))
            throw new ContainerConfigException($"unsupported container resource : {selector.Resource}");
        var resource = parts[1];
        var limits = container.Resources?.Limits;
        var requests = container.Resources?.Requests;
        decimal amount;
        if (parts[0] == "limits")
            amount = limits?.TryGetValue(resource, out var limit) == true ? limit.ToDecimal()
                : allocatable?.TryGetValue(resource, out var node) == true ? node.ToDecimal() : 0m;
        else
            // a request defaults to an explicit limit (the API server's defaulting), otherwise it is zero
            amount = requests?.TryGetValue(resource, out var request) == true ? request.ToDecimal()
                : limits?.TryGetValue(resource, out var limit) == true ? limit.ToDecimal() : 0m;
        var result = resource == "cpu"
            ? Math.Ceiling(Math.Ceiling(amount * 1000m) / Math.Ceiling(divisor * 1000m))
            : Math.Ceiling(Math.Ceiling(amount) / Math.Ceiling(divisor));
        return ((long)result).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Kubernetes' IsEnvVarName: letters, digits, '_', '-', '.', not starting with a digit.</summary>
    public static bool IsEnvVarName(string name) => name.Length > 0 && EnvVarName().IsMatch(name);

    [GeneratedRegex("^[-._a-zA-Z][-._a-zA-Z0-9]*\\z")]
    private static partial Regex EnvVarName();

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

    /// <summary>The container's own variables first, then the services' (MappingFuncFor(tmpEnv, serviceEnv)).</summary>
    private sealed class EnvLookup(IReadOnlyDictionary<string, string> own, IReadOnlyDictionary<string, string> services) : IReadOnlyDictionary<string, string>
    {
        public bool TryGetValue(string key, out string value) =>
            own.TryGetValue(key, out value!) || services.TryGetValue(key, out value!);

        public string this[string key] => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException(key);
        public IEnumerable<string> Keys => own.Keys.Concat(services.Keys);
        public IEnumerable<string> Values => Keys.Select(k => this[k]);
        public int Count => Keys.Count();
        public bool ContainsKey(string key) => own.ContainsKey(key) || services.ContainsKey(key);
        public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => Keys.Select(k => KeyValuePair.Create(k, this[k])).GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
