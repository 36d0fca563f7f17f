using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Orchestrator.Master.Admission.Policies;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Discovery;

/// <summary>
/// The ValidatingAdmissionPolicy type checker's view of the API, as kube-controller-manager's (a RESTMapper from
/// discovery, the OpenAPI v3 schema resolver): the kinds of the catalog's resources, and each kind's schema from the
/// served <c>/openapi/v3</c> document of its group version, built-in and custom alike. Where a published schema does
/// not say for sure what kube's resolver would type (int-or-string, quantities, free-form objects such as a
/// RawExtension), it is typed dyn, so that it never warns.
/// </summary>
internal sealed class OpenApiPolicySchemas(ResourceCatalog catalog) : IPolicySchemaSource
{
    private const string SchemaRefPrefix = "#/components/schemas/";

    // a group version's document, parsed once per served document (a snapshot's documents are built once)
    private static readonly ConditionalWeakTable<byte[], JsonObject> Parsed = new();

    public IReadOnlyList<PolicyKind> KindsFor(string group, string version, string resource)
    {
        // kube's RESTMapper matches a resource's plural or singular name, in lower case
        var name = resource.ToLowerInvariant();
        return catalog.Current.InGroupVersion(group, version).Where(d => d.Resource == name || d.Singular == name)
            .Select(d => new PolicyKind(d.Group, d.Version, d.Kind)).Distinct().ToList();
    }

    public PolicySchema? Resolve(PolicyKind kind)
    {
        var snapshot = catalog.Current;
        var path = kind.Group.Length == 0 ? $"api/{kind.Version}" : $"apis/{kind.Group}/{kind.Version}";
        if (OpenApiDocuments.For(snapshot).ForPath(path) is not { } json) return null;
        var document = Parsed.GetValue(json, Parse);
        if (document["components"]?["schemas"] is not JsonObject schemas) return null;
        foreach (var (_, node) in schemas)
            if (node is JsonObject schema && Declares(schema, kind))
                return new PolicySchema(schema, reference => reference.StartsWith(SchemaRefPrefix, StringComparison.Ordinal)
                    ? schemas[reference[SchemaRefPrefix.Length..]] as JsonObject
                    : null);
        return null;
    }

    private static bool Declares(JsonObject schema, PolicyKind kind) =>
        schema["x-kubernetes-group-version-kind"] is JsonArray gvks && gvks.OfType<JsonObject>().Any(g =>
            (string?)g["group"] == kind.Group && (string?)g["version"] == kind.Version && (string?)g["kind"] == kind.Kind);

    private static JsonObject Parse(byte[] json)
    {
        var document = JsonNode.Parse(json)!.AsObject();
        Loosen(document);
        return document;
    }

    /// <summary>Marks the schemas typed dyn (x-kubernetes-int-or-string, which the checker types dyn); every node is
    /// visited, so the parsed document is fully built before it is shared.</summary>
    private static void Loosen(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                var format = o["format"] is JsonValue f && f.TryGetValue<string>(out var text) ? text : null;
                var freeForm = o["type"] is JsonValue t && t.TryGetValue<string>(out var type) && type == "object" &&
                               o["properties"] is null && o["additionalProperties"] is null &&
                               o["x-kubernetes-preserve-unknown-fields"] is JsonValue p && p.TryGetValue<bool>(out var keep) && keep;
                if (format is "int-or-string" or "quantity" || freeForm) o["x-kubernetes-int-or-string"] = true;
                foreach (var (_, child) in o.ToList()) Loosen(child);
                break;
            case JsonArray a:
                foreach (var child in a) Loosen(child);
                break;
        }
    }
}
