using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Admission.Policies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Webhooks;

/// <summary>One write as the webhooks see it: the operation (CREATE, UPDATE, DELETE), the resource and subresource, the
/// object (null on delete) and the stored one (null on create), the labels of the request's namespace, the user, dry run
/// and the options (CreateOptions, UpdateOptions, DeleteOptions) as they go into the AdmissionReview.</summary>
internal sealed record WebhookRequest(ResourceDescription Resource, string Operation, string? Subresource, string Name, string? Namespace,
    IKubernetesObject<V1ObjectMeta>? Object, IKubernetesObject<V1ObjectMeta>? OldObject, IDictionary<string, string>? NamespaceLabels,
    AdmissionUser? User, bool DryRun, JsonObject Options)
{
    /// <summary>The same for the match conditions' CEL (kube's variables object, oldObject, request).</summary>
    public PolicyRequest Policy => new(Resource, Resource.Version, Operation, Subresource, Name, Namespace, Object, OldObject, null, User, DryRun);

    /// <summary>The AdmissionReview sent to a webhook (admission/plugin/webhook/request CreateV1AdmissionReview and
    /// CreateV1beta1AdmissionReview: the same fields) in <paramref name="version"/>, v1 or v1beta1.</summary>
    public JsonObject Review(string uid, string version = "v1")
    {
        var request = new JsonObject
        {
            ["uid"] = uid,
            ["kind"] = Kind(),
            ["resource"] = ResourceJson(),
        };
        if (!string.IsNullOrEmpty(Subresource)) request["subResource"] = Subresource;
        request["requestKind"] = Kind();
        request["requestResource"] = ResourceJson();
        if (!string.IsNullOrEmpty(Subresource)) request["requestSubResource"] = Subresource;
        if (Name.Length > 0) request["name"] = Name;
        if (!string.IsNullOrEmpty(Namespace)) request["namespace"] = Namespace;
        request["operation"] = Operation;
        request["userInfo"] = UserJson();
        if (Object is not null) request["object"] = ObjectJson.ToJson(Object, Resource);
        if (OldObject is not null) request["oldObject"] = ObjectJson.ToJson(OldObject, Resource);
        request["dryRun"] = DryRun;
        request["options"] = Options.DeepClone();
        return new JsonObject { ["kind"] = "AdmissionReview", ["apiVersion"] = "admission.k8s.io/" + version, ["request"] = request };
    }

    private JsonObject Kind() => new() { ["group"] = Resource.Group, ["version"] = Resource.Version, ["kind"] = Resource.Kind };

    private JsonObject ResourceJson() => new() { ["group"] = Resource.Group, ["version"] = Resource.Version, ["resource"] = Resource.Resource };

    private JsonObject UserJson()
    {
        var user = new JsonObject { ["username"] = User?.Name ?? "" };
        if (User is null) return user;
        if (User.Uid.Length > 0) user["uid"] = User.Uid;
        if (User.Groups.Count > 0) user["groups"] = new JsonArray(User.Groups.Select(g => (JsonNode?)JsonValue.Create(g)).ToArray());
        if (User.Extra.Count > 0)
        {
            var extra = new JsonObject();
            foreach (var (key, values) in User.Extra) extra[key] = new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
            user["extra"] = extra;
        }
        return user;
    }

    /// <summary>CreateOptions or UpdateOptions from the request's query (dryRun, fieldManager, fieldValidation).</summary>
    public static JsonObject WriteOptionsOf(HttpContext context, string operation)
    {
        var options = new JsonObject
        {
            ["kind"] = operation == "CREATE" ? "CreateOptions" : "UpdateOptions",
            ["apiVersion"] = "meta.k8s.io/v1",
        };
        var query = context.Request.Query;
        if (query["dryRun"].Where(v => !string.IsNullOrEmpty(v)).ToList() is { Count: > 0 } dryRun)
            options["dryRun"] = new JsonArray(dryRun.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        if (query["fieldManager"].ToString() is { Length: > 0 } manager) options["fieldManager"] = manager;
        if (query["fieldValidation"].ToString() is { Length: > 0 } validation) options["fieldValidation"] = validation;
        return options;
    }
}
