using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// The <c>fieldSelector</c> query: <c>a=b,c==d,e!=f</c> over metadata.name, metadata.namespace and the fields the
/// resource's description lists (spec.nodeName/status.phase for pods; involvedObject.*, type, reason, source for
/// events; …). An unsupported field is a 400, as on a real server.
/// </summary>
internal sealed class FieldSelector
{
    public sealed record Requirement(string Field, bool Equal, string Value);

    private static readonly string[] Common = ["metadata.name", "metadata.namespace"];

    // Field labels whose value lives under another path in the object, for every resource that selects them.
    private static readonly Dictionary<string, string> Aliases = new()
    {
        ["status.successful"] = "status.succeeded", // Jobs
    };

    public IReadOnlyList<Requirement> Requirements { get; }

    private readonly IReadOnlyDictionary<string, string> _paths;

    private FieldSelector(IReadOnlyList<Requirement> requirements, IReadOnlyDictionary<string, string> paths)
    {
        Requirements = requirements;
        _paths = paths;
    }

    public static FieldSelector Everything { get; } = new([], new Dictionary<string, string>());

    public bool IsEmpty => Requirements.Count == 0;

    public static FieldSelector Parse(string? text, ResourceDescription resource)
    {
        if (string.IsNullOrWhiteSpace(text)) return Everything;
        var allowed = Common.Concat(resource.SelectableFields).ToHashSet();
        var requirements = new List<Requirement>();
        foreach (var term in SplitUnescaped(text, ','))
        {
            var t = term.Trim();
            if (t.Length == 0) continue;
            var (field, equal, value) = SplitTerm(t)
                ?? throw ApiException.BadRequest($"invalid field selector: \"{t}\": expected field=value or field!=value");
            if (!allowed.Contains(field))
                throw ApiException.BadRequest($"field label not supported: {field}");
            requirements.Add(new Requirement(field, equal, Unescape(value)));
        }
        return new FieldSelector(requirements, resource.SelectableFieldPaths);
    }

    private static (string Field, bool Equal, string Value)? SplitTerm(string term)
    {
        foreach (var (token, equal) in new[] { ("!=", false), ("==", true), ("=", true) })
        {
            var at = term.IndexOf(token, StringComparison.Ordinal);
            if (at > 0) return (term[..at].Trim(), equal, term[(at + token.Length)..].Trim());
        }
        return null;
    }

    public bool Matches(IKubernetesObject<V1ObjectMeta> obj)
    {
        if (IsEmpty) return true;
        JsonObject? json = null;
        foreach (var r in Requirements)
        {
            var actual = r.Field switch
            {
                "metadata.name" => obj.Metadata?.Name ?? "",
                "metadata.namespace" => obj.Metadata?.NamespaceProperty ?? "",
                _ => ValueAt(json ??= System.Text.Json.Nodes.JsonNode.Parse(KubeObjects.Serialize(obj))!.AsObject(),
                    _paths.GetValueOrDefault(r.Field) ?? Aliases.GetValueOrDefault(r.Field, r.Field)),
            };
            if ((actual == r.Value) != r.Equal) return false;
        }
        return true;
    }

    private static string ValueAt(JsonObject json, string path)
    {
        JsonNode? node = json;
        foreach (var part in path.Split('.'))
            node = node is JsonObject o ? o[part] : null;
        return node switch
        {
            null => DefaultFor(path),
            JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
            JsonValue v => v.ToString(),
            _ => node.ToJsonString(),
        };
    }

    private static string DefaultFor(string path) => path switch
    {
        "spec.hostNetwork" or "spec.unschedulable" => "false",
        "status.succeeded" => "0",
        _ => "",
    };

    private static IEnumerable<string> SplitUnescaped(string text, char separator)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\') { i++; continue; }
            if (text[i] != separator) continue;
            yield return text[start..i];
            start = i + 1;
        }
        yield return text[start..];
    }

    private static string Unescape(string value) =>
        value.Replace("\\,", ",").Replace("\\=", "=").Replace("\\\\", "\\");

    public override string ToString() =>
        string.Join(",", Requirements.Select(r => $"{r.Field}{(r.Equal ? "=" : "!=")}{r.Value}"));
}
