using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.Deployments;

/// <summary>
/// The <c>pod-template-hash</c> that names a Deployment's ReplicaSet for one pod template: FNV-1a (32 bit) over a
/// canonical form of the template (JSON with sorted keys, the hash label itself left out), plus the
/// collision count, printed in decimal and mapped to DNS-safe characters the way Kubernetes'
/// rand.SafeEncodeString does. Stable across processes and restarts; a different template gives a different hash.
/// </summary>
internal static class PodTemplateHash
{
    public const string LabelKey = "pod-template-hash";
    private const string SafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static string Compute(V1PodTemplateSpec? template, int? collisionCount = null)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(Canonical(template)))
        {
            hash ^= b;
            hash *= 16777619u;
        }
        if (collisionCount is { } c)
            foreach (var b in BitConverter.GetBytes(c))
            {
                hash ^= b;
                hash *= 16777619u;
            }
        return new string(hash.ToString().Select(ch => SafeAlphabet[ch % SafeAlphabet.Length]).ToArray());
    }

    /// <summary>Kubernetes' EqualIgnoreHash: the templates are equal once the hash label is left out of both.</summary>
    public static bool EqualIgnoringHash(V1PodTemplateSpec? a, V1PodTemplateSpec? b) => Canonical(a) == Canonical(b);

    /// <summary>The template as sorted-key JSON, without the pod-template-hash label (and without an empty label map).</summary>
    public static string Canonical(V1PodTemplateSpec? template)
    {
        if (template is null) return "null";
        var node = JsonNode.Parse(KubeObjects.Serialize(template))!;
        if (node["metadata"]?["labels"] is JsonObject labels)
        {
            labels.Remove(LabelKey);
            if (labels.Count == 0) node["metadata"]!.AsObject().Remove("labels");
        }
        var builder = new StringBuilder();
        Write(node, builder);
        return builder.ToString();
    }

    private static void Write(JsonNode? node, StringBuilder into)
    {
        switch (node)
        {
            case JsonObject obj:
                into.Append('{');
                var first = true;
                foreach (var (key, value) in obj.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (value is null) continue;
                    if (!first) into.Append(',');
                    first = false;
                    into.Append(System.Text.Json.JsonSerializer.Serialize(key)).Append(':');
                    Write(value, into);
                }
                into.Append('}');
                break;
            case JsonArray array:
                into.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0) into.Append(',');
                    Write(array[i], into);
                }
                into.Append(']');
                break;
            default:
                into.Append(node?.ToJsonString() ?? "null");
                break;
        }
    }

    /// <summary>A copy of the template carrying the hash label.</summary>
    public static V1PodTemplateSpec WithHashLabel(V1PodTemplateSpec template, string hash)
    {
        var copy = KubeObjects.Clone(template);
        copy.Metadata ??= new V1ObjectMeta();
        copy.Metadata.Labels = new Dictionary<string, string>(copy.Metadata.Labels ?? new Dictionary<string, string>())
        {
            [LabelKey] = hash,
        };
        return copy;
    }
}
