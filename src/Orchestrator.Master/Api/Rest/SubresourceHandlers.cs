using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Patching;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// The generic subresources of every description: <c>status</c> (writes only .status) and <c>scale</c> (an
/// autoscaling/v1 Scale over the parent's fields at the description's <see cref="ScaleSubresource"/> paths — kubectl
/// scale patches it). Both work the same for built-in kinds and custom resources. A subresource of the parent's kind
/// with the verb update (a namespace's <c>finalize</c>) is written through the kind's strategy.
/// </summary>
internal sealed class SubresourceHandlers(ObjectStoreClient store, ResourceHandlers resources, ApiResponses responses)
{
    public Task HandleAsync(HttpContext context, ResourceDescription resource, string? ns, string name, SubresourceDescription subresource) =>
        (subresource.Name, subresource.Scale, context.Request.Method) switch
        {
            ("status", _, "GET") => resources.GetAsync(context, resource, ns, name),
            ("status", _, "PUT") => resources.UpdateAsync(context, resource, ns, name, "status"),
            ("status", _, "PATCH") => resources.PatchAsync(context, resource, ns, name, "status"),
            ("scale", { } scale, "GET") => GetScaleAsync(context, resource, scale, ns, name),
            ("scale", { } scale, "PUT") => UpdateScaleAsync(context, resource, scale, ns, name),
            ("scale", { } scale, "PATCH") => PatchScaleAsync(context, resource, scale, ns, name),
            // A subresource of the parent's own kind that the kind's strategy writes (a namespace's /finalize, a pod's
            // /ephemeralcontainers): read as the parent, written through the strategy.
            (_, null, "GET") when subresource.Kind == resource.Kind && subresource.Verbs.Contains("get") =>
                resources.GetAsync(context, resource, ns, name),
            (_, null, "PUT") when subresource.Kind == resource.Kind && subresource.Verbs.Contains("update") =>
                resources.UpdateAsync(context, resource, ns, name, subresource.Name),
            (_, null, "PATCH") when subresource.Kind == resource.Kind && subresource.Verbs.Contains("patch") =>
                resources.PatchAsync(context, resource, ns, name, subresource.Name),
            _ => throw ApiException.MethodNotAllowed(context.Request.Method),
        };

    private async Task GetScaleAsync(HttpContext context, ResourceDescription resource, ScaleSubresource paths, string? ns, string name)
    {
        var parent = await store.GetAsync(resource, ns, name, context.RequestAborted);
        await responses.WriteScaleAsync(context, ScaleOf(parent, resource, paths));
    }

    private async Task UpdateScaleAsync(HttpContext context, ResourceDescription resource, ScaleSubresource paths, string? ns, string name)
    {
        var scale = await RequestBodies.ReadJsonAsync<V1Scale>(context, "Scale", "autoscaling/v1")
                    ?? throw ApiException.BadRequest("the body of the request was empty");
        await WriteScaleAsync(context, resource, paths, ns, name, _ => scale);
    }

    private async Task PatchScaleAsync(HttpContext context, ResourceDescription resource, ScaleSubresource paths, string? ns, string name)
    {
        var validation = RequestBodies.FieldValidationOf(context);
        var body = await RequestBodies.ReadBytesAsync(context);
        var mediaType = RequestBodies.MediaType(context);
        var patch = PatchApplier.Parse(body, mediaType);
        RequestBodies.ReportDuplicates(context, patch.DuplicateFields, validation,
            strict => ApiException.BadRequest($"error strict decoding patch: {strict}"));
        await WriteScaleAsync(context, resource, paths, ns, name, parent =>
        {
            var current = JsonNode.Parse(KubeObjects.Serialize(ScaleOf(parent, resource, paths)))!;
            var patched = PatchApplier.Apply(current, patch.Root, mediaType);
            return ObjectJson.Deserialize<V1Scale>(patched, "Scale");
        });
    }

    /// <summary>Sets the parent's desired replicas from the Scale the change produces, and answers the new Scale.</summary>
    private async Task WriteScaleAsync(HttpContext context, ResourceDescription resource, ScaleSubresource paths, string? ns,
        string name, Func<IKubernetesObject<V1ObjectMeta>, V1Scale> change)
    {
        var dryRun = WriteOptions.DryRun(context);
        var manager = WriteOptions.Manager(context) is { } named ? named with { Subresource = "scale" } : null;
        var updated = await resources.PatchLoopAsync(context, resource, ns, name, parent =>
        {
            var scale = change(parent);
            if (scale.Metadata?.Name is { Length: > 0 } scaleName && scaleName != name)
                throw ApiException.BadRequest($"the name of the object ({scaleName}) does not match the name on the URL ({name})");
            // Go's ScaleSpec.Replicas is an int32 with omitempty: a Scale without it asks for 0; ValidateScale's error names
            // the Scale, not its parent
            var replicas = scale.Spec?.Replicas ?? 0;
            if (replicas < 0)
                throw ApiException.Invalid("autoscaling", "Scale", name, "spec.replicas", $"Invalid value: {replicas}: must be greater than or equal to 0");
            var json = ObjectJson.ToJson(parent, resource);
            JsonPaths.Set(json, paths.SpecReplicasPath, replicas);
            var result = ObjectJson.FromJson(json, resource);
            if (scale.Metadata?.ResourceVersion is { Length: > 0 } rv) result.Metadata.ResourceVersion = rv;
            return result;
        }, obj => new UpdateObject(resource.StoreName, obj, null, dryRun, manager));
        await responses.WriteScaleAsync(context, ScaleOf(updated, resource, paths));
    }

    /// <summary>The Scale of a parent: desired and observed replicas and the selector at the description's paths.</summary>
    public static V1Scale ScaleOf(IKubernetesObject<V1ObjectMeta> parent, ResourceDescription resource, ScaleSubresource paths)
    {
        var json = ObjectJson.ToJson(parent, resource);
        var specReplicas = JsonPaths.Get(json, paths.SpecReplicasPath) is JsonValue s && s.TryGetValue<int>(out var desired) ? desired : 0;
        var statusReplicas = JsonPaths.Get(json, paths.StatusReplicasPath) is JsonValue o && o.TryGetValue<int>(out var observed) ? observed : 0;
        return new V1Scale
        {
            ApiVersion = "autoscaling/v1",
            Kind = "Scale",
            Metadata = new V1ObjectMeta
            {
                Name = parent.Metadata.Name,
                NamespaceProperty = parent.Metadata.NamespaceProperty,
                Uid = parent.Metadata.Uid,
                ResourceVersion = parent.Metadata.ResourceVersion,
                CreationTimestamp = parent.Metadata.CreationTimestamp,
            },
            Spec = new V1ScaleSpec { Replicas = specReplicas },
            Status = new V1ScaleStatus
            {
                Replicas = statusReplicas,
                Selector = paths.LabelSelectorPath is { } selectorPath ? SelectorText(JsonPaths.Get(json, selectorPath)) : null,
            },
        };
    }

    /// <summary>A selector in the label-selector syntax: a string as it is, a LabelSelector or a label map formatted.</summary>
    private static string? SelectorText(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var text) => text,
        JsonObject o when o.ContainsKey("matchLabels") || o.ContainsKey("matchExpressions") =>
            Registry.Tables.SelectorText.Format(KubernetesJson.Deserialize<V1LabelSelector>(o.ToJsonString())),
        JsonObject o => Registry.Tables.SelectorText.FormatLabels(o.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString() ?? "")),
        _ => null,
    };
}
