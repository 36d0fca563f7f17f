using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Responses;
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

    public JsonObject Operation(string action, ResourceDescription r, JsonObject gvk, JsonNode[] parameters, string? sub = null,
        string? listSchema = null)
    {
        var ok = new JsonObject { ["description"] = "OK" };
        if (listSchema is not null)
        {
            var reference = new JsonObject { ["$ref"] = (_v2 ? V2Prefix : V3Prefix) + listSchema };
            if (_v2) ok["schema"] = reference;
            else ok["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = reference } };
        }
        var operation = new JsonObject
        {
            ["description"] = Description(action, r.Kind, sub),
            ["operationId"] = $"{action}{r.Kind}{(sub is null ? "" : char.ToUpperInvariant(sub[0]) + sub[1..])}",
            ["x-kubernetes-action"] = action,
            ["x-kubernetes-group-version-kind"] = gvk.DeepClone(),
            ["parameters"] = new JsonArray(parameters),
            ["responses"] = new JsonObject { ["200"] = ok },
        };
        if (_v2)
        {
            operation["consumes"] = new JsonArray("*/*");
            // protobuf where we answer in it (ProtobufAnswers); kube's custom resources publish JSON and YAML only
            operation["produces"] = ProtobufAnswers.AnswerMessage(r, sub is null ? null : r.Subresource(sub)) is not null
                ? new JsonArray("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
                : new JsonArray("application/json", "application/yaml");
            operation["schemes"] = new JsonArray("https");
        }
        return operation;
    }

    /// <summary>kube-apiserver's words for an operation (its OpenAPI "description").</summary>
    private static string Description(string action, string kind, string? sub) => (action, sub) switch
    {
        ("list", _) => $"list or watch objects of kind {kind}",
        ("post", null) => $"create a {kind}",
        ("post", _) => $"create {sub} of a {kind}",
        ("get", null) => $"read the specified {kind}",
        ("get", _) => $"read {sub} of the specified {kind}",
        ("put", null) => $"replace the specified {kind}",
        ("put", _) => $"replace {sub} of the specified {kind}",
        ("patch", null) => $"partially update the specified {kind}",
        ("patch", _) => $"partially update {sub} of the specified {kind}",
        ("delete", _) => $"delete a {kind}",
        ("deletecollection", _) => $"delete collection of {kind}",
        _ => $"{action} {kind}",
    };

    public JsonObject Query(string name, string type = "string")
    {
        var parameter = _v2
            ? new JsonObject { ["name"] = name, ["in"] = "query", ["type"] = type, ["uniqueItems"] = true }
            : new JsonObject { ["name"] = name, ["in"] = "query", ["schema"] = new JsonObject { ["type"] = type, ["uniqueItems"] = true } };
        if (QueryDescriptions.TryGetValue(name, out var description)) parameter["description"] = description;
        return parameter;
    }

    // kube-apiserver's descriptions of the common query parameters (clients and kubectl's own tests read them)
    private static readonly Dictionary<string, string> QueryDescriptions = new(StringComparer.Ordinal)
    {
        ["allowWatchBookmarks"] = "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.",
        ["continue"] = "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token.",
        ["dryRun"] = "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
        ["fieldManager"] = "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
        ["fieldSelector"] = "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
        ["fieldValidation"] = "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
        ["force"] = "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
        ["gracePeriodSeconds"] = "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.",
        ["labelSelector"] = "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
        ["limit"] = "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.",
        ["propagationPolicy"] = "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
        ["resourceVersion"] = "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details. Defaults to unset",
        ["timeoutSeconds"] = "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.",
        ["watch"] = "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.",
    };

    public JsonArray PathParameters(bool namespaced, bool named)
    {
        var list = new JsonArray();
        if (named) list.Add(PathParameter("name"));
        if (namespaced) list.Add(PathParameter("namespace"));
        return list;
    }

    private JsonObject PathParameter(string name)
    {
        var parameter = _v2
            ? new JsonObject { ["name"] = name, ["in"] = "path", ["required"] = true, ["type"] = "string", ["uniqueItems"] = true }
            : new JsonObject
            {
                ["name"] = name, ["in"] = "path", ["required"] = true,
                ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true },
            };
        parameter["description"] = name == "namespace" ? "object name and auth scope, such as for teams and projects" : "name of the object";
        return parameter;
    }

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
