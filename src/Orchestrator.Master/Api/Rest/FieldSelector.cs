using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// The <c>fieldSelector</c> query: <c>a=b,c==d,e!=f</c> (parsed by <see cref="FieldSelectorSyntax"/>) over metadata.name, metadata.namespace and the fields the
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

    /// <summary>Parses the query form (<see cref="FieldSelectorSyntax"/>) and checks its fields: 400 either way.</summary>
    public static FieldSelector Parse(string? text, ResourceDescription resource)
    {
        IReadOnlyList<FieldSelectorSyntax.Term> terms;
        try
        {
            terms = FieldSelectorSyntax.Parse(text);
        }
        catch (FormatException e)
        {
            throw ApiException.BadRequest(e.Message);
        }
        return For(terms, resource);
    }

    /// <summary>The parsed terms over <paramref name="resource"/>; a field it does not select is a 400, as kube's
    /// field label conversion answers (for the first such term in the sorted order).</summary>
    public static FieldSelector For(IReadOnlyList<FieldSelectorSyntax.Term> terms, ResourceDescription resource)
    {
        if (terms.Count == 0) return Everything;
        var allowed = Common.Concat(resource.SelectableFields).ToHashSet();
        if (terms.FirstOrDefault(t => !allowed.Contains(t.Field)) is { } unsupported)
            throw ApiException.BadRequest($"field label not supported: {unsupported.Field}");
        return new FieldSelector([.. terms.Select(t => new Requirement(t.Field, t.Equal, t.Value))], resource.SelectableFieldPaths);
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

    /// <summary>The query form, values escaped as kube's String() escapes them.</summary>
    public override string ToString() =>
        string.Join(",", Requirements.Select(r => $"{r.Field}{(r.Equal ? "=" : "!=")}{Escape(r.Value)}"));

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace(",", "\\,").Replace("=", "\\=");
}
