using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Discovery;

/// <summary>
/// A minimal OpenAPI v3 surface, generated from <see cref="ApiResources.All"/>, for what kubectl reads from it:
/// with default (strict) validation kubectl looks in <c>/openapi/v3/{gv path}</c> for the PATCH operation of the
/// kind (x-kubernetes-group-version-kind) and its <c>fieldValidation</c> parameter; finding it, kubectl leaves
/// validation to the server (<c>?fieldValidation=Strict</c>) instead of validating against schemas. The component
/// schemas (<see cref="OpenApiSchemas"/>) serve <c>kubectl explain</c>.
/// </summary>
internal static class OpenApiDocuments
{
    private static readonly Lazy<IReadOnlyDictionary<string, (string Json, string Hash)>> Documents = new(Build);

    /// <summary>The root document: each group version's path and its URL with a content hash.</summary>
    public static string Root()
    {
        var paths = new JsonObject();
        foreach (var (path, doc) in Documents.Value)
            paths[path] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{path}?hash={doc.Hash}" };
        return new JsonObject { ["paths"] = paths }.ToJsonString();
    }

    /// <summary>The document of one group version ("api/v1", "apis/apps/v1"), null when not served.</summary>
    public static string? ForPath(string path) => Documents.Value.TryGetValue(path.Trim('/'), out var doc) ? doc.Json : null;

    private static IReadOnlyDictionary<string, (string Json, string Hash)> Build()
    {
        var result = new Dictionary<string, (string, string)>();
        foreach (var gv in ApiResources.All.GroupBy(r => r.GroupVersionPath))
        {
            var json = GroupVersionDocument(gv.ToList()).ToJsonString();
            var hash = Convert.ToHexString(SHA512.HashData(Encoding.UTF8.GetBytes(json)));
            result[gv.Key.TrimStart('/')] = (json, hash);
        }
        return result;
    }

    private static JsonObject GroupVersionDocument(IReadOnlyList<ApiResource> resources)
    {
        var paths = new JsonObject();
        foreach (var r in resources)
        {
            var gvk = Gvk(r.Group, r.Version, r.Kind);
            var collection = r.Namespaced
                ? $"{r.GroupVersionPath}/namespaces/{{namespace}}/{r.Resource}"
                : $"{r.GroupVersionPath}/{r.Resource}";
            paths[collection] = new JsonObject
            {
                ["get"] = Operation("list", r, gvk, ListParameters()),
                ["post"] = Operation("post", r, gvk, WriteParameters()),
                ["delete"] = Operation("deletecollection", r, gvk, ListParameters()),
                ["parameters"] = PathParameters(r.Namespaced, named: false),
            };
            paths[$"{collection}/{{name}}"] = new JsonObject
            {
                ["get"] = Operation("get", r, gvk, []),
                ["put"] = Operation("put", r, gvk, WriteParameters()),
                ["patch"] = Operation("patch", r, gvk, WriteParameters(force: true)),
                ["delete"] = Operation("delete", r, gvk, [Query("dryRun"), Query("gracePeriodSeconds"), Query("propagationPolicy")]),
                ["parameters"] = PathParameters(r.Namespaced, named: true),
            };
            if (r.Namespaced)
                paths[$"{r.GroupVersionPath}/{r.Resource}"] = new JsonObject { ["get"] = Operation("list", r, gvk, ListParameters()) };

            foreach (var sub in r.Subresources)
            {
                var (group, version, kind, verbs) = DiscoveryDocuments.Subresource(r, sub);
                var subGvk = Gvk(group ?? r.Group, version ?? r.Version, kind);
                var item = new JsonObject { ["parameters"] = PathParameters(r.Namespaced, named: true) };
                if (verbs.Contains("get")) item["get"] = Operation("get", r, subGvk, [], sub);
                if (verbs.Contains("update")) item["put"] = Operation("put", r, subGvk, WriteParameters(), sub);
                if (verbs.Contains("patch")) item["patch"] = Operation("patch", r, subGvk, WriteParameters(force: true), sub);
                if (verbs.Contains("create")) item["post"] = Operation("post", r, subGvk, WriteParameters(), sub);
                paths[$"{collection}/{{name}}/{sub}"] = item;
            }
        }
        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = DiscoveryDocuments.KubernetesVersion },
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["schemas"] = OpenApiSchemas.For(resources.Select(r => (r.ObjectType, r.Group, r.Version, r.Kind))),
            },
        };
    }

    private static JsonObject Gvk(string group, string version, string kind) =>
        new() { ["group"] = group, ["version"] = version, ["kind"] = kind };

    private static JsonObject Operation(string action, ApiResource r, JsonObject gvk, JsonNode[] parameters, string? sub = null) => new()
    {
        ["operationId"] = $"{action}{r.Kind}{(sub is null ? "" : char.ToUpperInvariant(sub[0]) + sub[1..])}",
        ["x-kubernetes-action"] = action,
        ["x-kubernetes-group-version-kind"] = gvk.DeepClone(),
        ["parameters"] = new JsonArray(parameters),
        ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
    };

    private static JsonNode[] ListParameters() =>
    [
        Query("labelSelector"), Query("fieldSelector"), Query("limit", "integer"), Query("continue"),
        Query("resourceVersion"), Query("timeoutSeconds", "integer"), Query("watch", "boolean"),
        Query("allowWatchBookmarks", "boolean"),
    ];

    private static JsonNode[] WriteParameters(bool force = false) =>
        force
            ? [Query("dryRun"), Query("fieldManager"), Query("fieldValidation"), Query("force", "boolean")]
            : [Query("dryRun"), Query("fieldManager"), Query("fieldValidation")];

    private static JsonObject Query(string name, string type = "string") => new()
    {
        ["name"] = name,
        ["in"] = "query",
        ["schema"] = new JsonObject { ["type"] = type, ["uniqueItems"] = true },
    };

    private static JsonArray PathParameters(bool namespaced, bool named)
    {
        var list = new JsonArray();
        if (named) list.Add(PathParameter("name"));
        if (namespaced) list.Add(PathParameter("namespace"));
        return list;
    }

    private static JsonObject PathParameter(string name) => new()
    {
        ["name"] = name,
        ["in"] = "path",
        ["required"] = true,
        ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true },
    };
}
