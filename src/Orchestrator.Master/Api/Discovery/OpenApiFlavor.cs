using System.Text.Json.Nodes;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Discovery;

/// <summary>What differs between OpenAPI 3.0 and Swagger 2.0 in our documents: where parameters keep their type,
/// where schemas live (components/schemas or definitions) and the document's envelope.</summary>
internal sealed class OpenApiFlavor
{
    public static readonly OpenApiFlavor V3 = new(v2: false);
    public static readonly OpenApiFlavor V2 = new(v2: true);

    private const string V3Prefix = "#/components/schemas/";
    private const string V2Prefix = "#/definitions/";

    private readonly bool _v2;

    private OpenApiFlavor(bool v2) => _v2 = v2;

    public JsonObject Operation(string action, ResourceDescription r, JsonObject gvk, JsonNode[] parameters, string? sub = null)
    {
        var operation = new JsonObject
        {
            ["operationId"] = $"{action}{r.Kind}{(sub is null ? "" : char.ToUpperInvariant(sub[0]) + sub[1..])}",
            ["x-kubernetes-action"] = action,
            ["x-kubernetes-group-version-kind"] = gvk.DeepClone(),
            ["parameters"] = new JsonArray(parameters),
            ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
        };
        if (_v2)
        {
            operation["consumes"] = new JsonArray("*/*");
            operation["produces"] = new JsonArray("application/json", "application/yaml", "application/vnd.kubernetes.protobuf");
            operation["schemes"] = new JsonArray("https");
        }
        return operation;
    }

    public JsonObject Query(string name, string type = "string") => _v2
        ? new JsonObject { ["name"] = name, ["in"] = "query", ["type"] = type, ["uniqueItems"] = true }
        : new JsonObject { ["name"] = name, ["in"] = "query", ["schema"] = new JsonObject { ["type"] = type, ["uniqueItems"] = true } };

    public JsonArray PathParameters(bool namespaced, bool named)
    {
        var list = new JsonArray();
        if (named) list.Add(PathParameter("name"));
        if (namespaced) list.Add(PathParameter("namespace"));
        return list;
    }

    private JsonObject PathParameter(string name) => _v2
        ? new JsonObject { ["name"] = name, ["in"] = "path", ["required"] = true, ["type"] = "string", ["uniqueItems"] = true }
        : new JsonObject
        {
            ["name"] = name, ["in"] = "path", ["required"] = true,
            ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true },
        };

    /// <summary>The document around <paramref name="paths"/> and the schemas (which refer to each other v3-style).</summary>
    public JsonObject Wrap(JsonObject paths, JsonObject schemas)
    {
        var info = new JsonObject { ["title"] = "Kubernetes", ["version"] = DiscoveryDocuments.KubernetesVersion };
        if (!_v2)
            return new JsonObject
            {
                ["openapi"] = "3.0.0",
                ["info"] = info,
                ["paths"] = paths,
                ["components"] = new JsonObject { ["schemas"] = schemas },
            };
        RewriteReferences(schemas);
        return new JsonObject { ["swagger"] = "2.0", ["info"] = info, ["paths"] = paths, ["definitions"] = schemas };
    }

    private static void RewriteReferences(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["$ref"] is JsonValue r && r.TryGetValue<string>(out var reference) && reference.StartsWith(V3Prefix, StringComparison.Ordinal))
                    o["$ref"] = V2Prefix + reference[V3Prefix.Length..];
                foreach (var (_, child) in o) RewriteReferences(child);
                break;
            case JsonArray a:
                foreach (var child in a) RewriteReferences(child);
                break;
        }
    }
}
