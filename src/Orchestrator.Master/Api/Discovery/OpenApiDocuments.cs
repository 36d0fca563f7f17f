using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Discovery;

/// <summary>
/// The OpenAPI documents of one catalog snapshot, built once per snapshot: v3 per group version (<c>/openapi/v3/{gv}</c>,
/// listed with content hashes by <c>/openapi/v3</c>) and v2 for everything (<c>/openapi/v2</c>). Paths carry each
/// operation's x-kubernetes-group-version-kind and parameters — kubectl, finding <c>fieldValidation</c> on a kind's
/// PATCH, leaves validation to the server — and the component schemas (<see cref="OpenApiSchemas"/> for built-in
/// kinds, the definition's schema for custom resources) serve <c>kubectl explain</c>.
/// </summary>
internal sealed class OpenApiDocuments
{
    private static readonly ConditionalWeakTable<CatalogSnapshot, OpenApiDocuments> Cache = new();

    // UTF-8, not strings: the served catalog's v3 documents are about 2.4 MB of JSON, kept for the snapshot's lifetime
    // (issue 19, idle footprint: half the memory of UTF-16 strings, and written to a response without encoding)
    private readonly Lazy<IReadOnlyDictionary<string, (byte[] Json, string Hash)>> _v3;
    private readonly Lazy<(string Json, string Hash)> _v2;
    private readonly Lazy<byte[]> _v2Protobuf;

    private OpenApiDocuments(CatalogSnapshot catalog)
    {
        var schemas = new Lazy<OpenApiSchemas>(() => new OpenApiSchemas(
            catalog.All.Where(d => d.Schema is null).Select(d => (d.ObjectType, d.Group))
                .Concat(catalog.All.Where(d => d.Schema is null && ListType(d) is not null).Select(d => (ListType(d)!, d.Group)))));
        _v3 = new(() => catalog.All.GroupBy(r => r.GroupVersionPath).ToDictionary(
            gv => gv.Key.TrimStart('/'),
            gv => WithHash(Encoding.UTF8.GetBytes(Document(gv.ToList(), schemas.Value, OpenApiFlavor.V3).ToJsonString()))));
        _v2 = new(() => WithHash(Document(catalog.All, schemas.Value, OpenApiFlavor.V2).ToJsonString()));
        _v2Protobuf = new(() => OpenApiV2Protobuf.Encode(JsonNode.Parse(_v2.Value.Json)!.AsObject()));
    }

    public static OpenApiDocuments For(CatalogSnapshot catalog) => Cache.GetValue(catalog, c => new OpenApiDocuments(c));

    /// <summary>Whether the v3 documents are built (<see cref="BuildV3"/> or a request for them).</summary>
    public bool V3Built => _v3.IsValueCreated;

    /// <summary>Builds the v3 documents now, if no one has yet (<see cref="OpenApiWarmup"/>).</summary>
    public void BuildV3() => _ = _v3.Value;

    /// <summary>The v3 root document: each group version's path and its URL with a content hash.</summary>
    public string Root()
    {
        var paths = new JsonObject();
        foreach (var (path, doc) in _v3.Value)
            paths[path] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{path}?hash={doc.Hash}" };
        return new JsonObject { ["paths"] = paths }.ToJsonString();
    }

    /// <summary>The v3 document of one group version ("api/v1", "apis/apps/v1") as UTF-8 JSON, null when not served.</summary>
    public byte[]? ForPath(string path) => _v3.Value.TryGetValue(path.Trim('/'), out var doc) ? doc.Json : null;

    public string V2Json => _v2.Value.Json;
    public string V2Hash => _v2.Value.Hash;
    public byte[] V2Protobuf() => _v2Protobuf.Value;

    private static (string, string) WithHash(string json) =>
        (json, Convert.ToHexString(SHA512.HashData(Encoding.UTF8.GetBytes(json))));

    private static (byte[], string) WithHash(byte[] json) => (json, Convert.ToHexString(SHA512.HashData(json)));

    private static JsonObject Document(IReadOnlyList<ResourceDescription> resources, OpenApiSchemas schemas, OpenApiFlavor flavor)
    {
        var paths = new JsonObject();
        foreach (var r in resources)
        {
            var gvk = Gvk(r.Group, r.Version, r.Kind);
            var collection = r.Namespaced
                ? $"{r.GroupVersionPath}/namespaces/{{namespace}}/{r.Resource}"
                : $"{r.GroupVersionPath}/{r.Resource}";
            var list = new JsonObject { ["parameters"] = flavor.PathParameters(r.Namespaced, named: false) };
            var item = new JsonObject { ["parameters"] = flavor.PathParameters(r.Namespaced, named: true) };
            var listSchema = r.Schema is null && ListType(r) is { } listType ? schemas.NameOf(listType) : null;
            if (r.Allows("list")) list["get"] = flavor.Operation("list", r, gvk, ListParameters(flavor), listSchema: listSchema);
            if (r.Allows("create")) list["post"] = flavor.Operation("post", r, gvk, WriteParameters(flavor));
            if (r.Allows("deletecollection")) list["delete"] = flavor.Operation("deletecollection", r, gvk, ListParameters(flavor));
            if (r.Allows("get")) item["get"] = flavor.Operation("get", r, gvk, []);
            if (r.Allows("update")) item["put"] = flavor.Operation("put", r, gvk, WriteParameters(flavor));
            if (r.Allows("patch")) item["patch"] = flavor.Operation("patch", r, gvk, WriteParameters(flavor, force: true));
            if (r.Allows("delete"))
                item["delete"] = flavor.Operation("delete", r, gvk,
                    [flavor.Query("dryRun"), flavor.Query("gracePeriodSeconds", "integer"), flavor.Query("propagationPolicy")]);
            paths[collection] = list;
            paths[$"{collection}/{{name}}"] = item;
            if (r.Namespaced && r.Allows("list"))
                paths[$"{r.GroupVersionPath}/{r.Resource}"] = new JsonObject { ["get"] = flavor.Operation("list", r, gvk, ListParameters(flavor), listSchema: listSchema) };

            foreach (var sub in r.Subresources)
            {
                var subGvk = Gvk(sub.Group ?? r.Group, sub.Version ?? r.Version, sub.Kind);
                var subItem = new JsonObject { ["parameters"] = flavor.PathParameters(r.Namespaced, named: true) };
                if (sub.Verbs.Contains("get")) subItem["get"] = flavor.Operation("get", r, subGvk, [], sub.Name);
                if (sub.Verbs.Contains("update")) subItem["put"] = flavor.Operation("put", r, subGvk, WriteParameters(flavor), sub.Name);
                if (sub.Verbs.Contains("patch")) subItem["patch"] = flavor.Operation("patch", r, subGvk, WriteParameters(flavor, force: true), sub.Name);
                if (sub.Verbs.Contains("create")) subItem["post"] = flavor.Operation("post", r, subGvk, WriteParameters(flavor), sub.Name);
                paths[$"{collection}/{{name}}/{sub.Name}"] = subItem;
            }
        }

        var builtIn = resources.Where(r => r.Schema is null).ToList();
        var definitions = schemas.For(builtIn.Select(r => (r.ObjectType, r.Group, r.Version, r.Kind))
            .Concat(builtIn.Where(r => r.Allows("list") && ListType(r) is not null).Select(r => (ListType(r)!, r.Group, r.Version, r.Kind + "List"))));
        foreach (var custom in resources.Where(r => r.Schema is not null))
            definitions[CustomSchemaName(custom)] = CustomSchema(custom, schemas, flavor);
        if (resources.Any(r => r.Schema is not null) && !definitions.ContainsKey(schemas.NameOf(typeof(k8s.Models.V1ObjectMeta))))
            foreach (var (name, schema) in schemas.For([(typeof(k8s.Models.V1ObjectMeta), "meta.k8s.io", "v1", "ObjectMeta")]))
                definitions[name] = schema!.DeepClone();
        return flavor.Wrap(paths, definitions);
    }

    /// <summary>The model type of a built-in kind's list (V1ServiceList for V1Service), when the client library has one.</summary>
    private static Type? ListType(ResourceDescription r) => r.ObjectType.Assembly.GetType(r.ObjectType.FullName + "List");

    /// <summary>Kubernetes' schema name of a custom resource: the reversed group, the version and the kind
    /// (com.example.stable.v1.CronTab).</summary>
    public static string CustomSchemaName(ResourceDescription r) =>
        $"{string.Join(".", r.Group.Split('.').Reverse())}.{r.Version}.{r.Kind}";

    /// <summary>The definition's schema with apiVersion, kind and metadata as the API server publishes them. In v2, a
    /// schema keeping unknown fields at its root is published as a bare object, as apiextensions-apiserver's
    /// buildKubeNative does: kubectl's client-side validation (which reads v2, e.g. for the items of a List) takes a
    /// schema with properties to forbid every other field, so it would refuse the very fields the schema keeps.</summary>
    private static JsonObject CustomSchema(ResourceDescription r, OpenApiSchemas schemas, OpenApiFlavor flavor)
    {
        if (flavor == OpenApiFlavor.V2 && r.Schema!["x-kubernetes-preserve-unknown-fields"]?.GetValueKind() == System.Text.Json.JsonValueKind.True)
            return new JsonObject { ["type"] = "object", ["x-kubernetes-group-version-kind"] = new JsonArray(Gvk(r.Group, r.Version, r.Kind)) };
        var schema = (JsonObject)r.Schema!.DeepClone();
        if (schema["properties"] is not JsonObject properties) schema["properties"] = properties = new JsonObject();
        properties["apiVersion"] = new JsonObject { ["type"] = "string", ["description"] = "APIVersion defines the versioned schema of this representation of an object." };
        properties["kind"] = new JsonObject { ["type"] = "string", ["description"] = "Kind is a string value representing the REST resource this object represents." };
        properties["metadata"] = new JsonObject
        {
            ["allOf"] = new JsonArray(new JsonObject { ["$ref"] = "#/components/schemas/" + schemas.NameOf(typeof(k8s.Models.V1ObjectMeta)) }),
            ["description"] = "Standard object's metadata.",
        };
        schema["x-kubernetes-group-version-kind"] = new JsonArray(Gvk(r.Group, r.Version, r.Kind));
        return schema;
    }

    private static JsonObject Gvk(string group, string version, string kind) =>
        new() { ["group"] = group, ["version"] = version, ["kind"] = kind };

    private static JsonNode[] ListParameters(OpenApiFlavor flavor) =>
    [
        flavor.Query("labelSelector"), flavor.Query("fieldSelector"), flavor.Query("limit", "integer"), flavor.Query("continue"),
        flavor.Query("resourceVersion"), flavor.Query("timeoutSeconds", "integer"), flavor.Query("watch", "boolean"),
        flavor.Query("allowWatchBookmarks", "boolean"),
    ];

    private static JsonNode[] WriteParameters(OpenApiFlavor flavor, bool force = false) =>
        force
            ? [flavor.Query("dryRun"), flavor.Query("fieldManager"), flavor.Query("fieldValidation"), flavor.Query("force", "boolean")]
            : [flavor.Query("dryRun"), flavor.Query("fieldManager"), flavor.Query("fieldValidation")];
}
