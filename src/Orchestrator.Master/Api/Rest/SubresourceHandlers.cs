using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Patching;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Api.Tables;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// Subresources: <c>status</c> (writes only .status), <c>scale</c> (autoscaling/v1 Scale over the parent's
/// spec.replicas — kubectl scale patches it) and <c>binding</c> (assigns a pod to a node).
/// </summary>
internal sealed class SubresourceHandlers(ObjectStoreClient store, ResourceHandlers resources)
{
    public Task HandleAsync(HttpContext context, ApiResource resource, string? ns, string name, string subresource) =>
        (subresource, context.Request.Method) switch
        {
            ("status", "GET") => resources.GetAsync(context, resource, ns, name),
            ("status", "PUT") => resources.UpdateAsync(context, resource, ns, name, "status"),
            ("status", "PATCH") => resources.PatchAsync(context, resource, ns, name, "status"),
            ("scale", "GET") => GetScaleAsync(context, resource, ns, name),
            ("scale", "PUT") => UpdateScaleAsync(context, resource, ns, name),
            ("scale", "PATCH") => PatchScaleAsync(context, resource, ns, name),
            ("binding", "POST") => BindAsync(context, ns, name),
            ("eviction", "POST") => EvictionHandler.EvictAsync(context, store, ns, name),
            ("log", "GET") => throw new ApiException(501, "NotImplemented",
                "container logs are not served by this API server yet"),
            _ => throw ApiException.MethodNotAllowed(context.Request.Method),
        };

    private async Task GetScaleAsync(HttpContext context, ApiResource resource, string? ns, string name)
    {
        var parent = await store.GetAsync(resource, ns, name, context.RequestAborted);
        await ApiResponses.WriteJsonAsync(context, 200, ScaleOf(parent));
    }

    private async Task UpdateScaleAsync(HttpContext context, ApiResource resource, string? ns, string name)
    {
        var scale = await RequestBodies.ReadJsonAsync<V1Scale>(context, "Scale", "autoscaling/v1")
                    ?? throw ApiException.BadRequest("the body of the request was empty");
        await WriteScaleAsync(context, resource, ns, name, _ => scale);
    }

    private async Task PatchScaleAsync(HttpContext context, ApiResource resource, string? ns, string name)
    {
        var validation = RequestBodies.FieldValidationOf(context);
        var body = await RequestBodies.ReadBytesAsync(context);
        var mediaType = RequestBodies.MediaType(context);
        var patch = PatchApplier.Parse(body, mediaType);
        RequestBodies.ReportDuplicates(context, patch.DuplicateFields, validation,
            strict => ApiException.BadRequest($"error strict decoding patch: {strict}"));
        await WriteScaleAsync(context, resource, ns, name, parent =>
        {
            var current = JsonNode.Parse(KubeObjects.Serialize(ScaleOf(parent)))!;
            var patched = PatchApplier.Apply(current, patch.Root, mediaType);
            return ObjectJson.Deserialize<V1Scale>(patched, "Scale");
        });
    }

    /// <summary>Sets the parent's spec.replicas from the Scale the change produces, and answers the new Scale.</summary>
    private async Task WriteScaleAsync(HttpContext context, ApiResource resource, string? ns, string name,
        Func<IKubernetesObject<V1ObjectMeta>, V1Scale> change)
    {
        var dryRun = WriteOptions.DryRun(context);
        var updated = await resources.PatchLoopAsync(context, resource, ns, name, parent =>
        {
            var scale = change(parent);
            if (scale.Metadata?.Name is { Length: > 0 } scaleName && scaleName != name)
                throw ApiException.BadRequest($"the name of the object ({scaleName}) does not match the name on the URL ({name})");
            var replicas = scale.Spec?.Replicas ?? throw ApiException.Invalid(resource, name, "spec.replicas", "Required value");
            if (replicas < 0)
                throw ApiException.Invalid(resource, name, "spec.replicas", $"Invalid value: {replicas}: must be greater than or equal to 0");
            var json = ObjectJson.ToJson(parent, resource);
            if (json["spec"] is not JsonObject spec) json["spec"] = spec = new JsonObject();
            spec["replicas"] = replicas;
            var result = ObjectJson.FromJson(json, resource);
            if (scale.Metadata?.ResourceVersion is { Length: > 0 } rv) result.Metadata.ResourceVersion = rv;
            return result;
        }, obj => new UpdateObject(ResourceKey.StoreName(resource), obj, null, dryRun));
        await ApiResponses.WriteJsonAsync(context, 200, ScaleOf(updated));
    }

    public static V1Scale ScaleOf(IKubernetesObject<V1ObjectMeta> parent)
    {
        var (specReplicas, statusReplicas, selector) = parent switch
        {
            V1Deployment d => (d.Spec?.Replicas ?? 1, d.Status?.Replicas ?? 0, SelectorText.Format(d.Spec?.Selector)),
            V1ReplicaSet rs => (rs.Spec?.Replicas ?? 1, rs.Status?.Replicas ?? 0, SelectorText.Format(rs.Spec?.Selector)),
            V1ReplicationController rc => (rc.Spec?.Replicas ?? 1, rc.Status?.Replicas ?? 0, SelectorText.FormatLabels(rc.Spec?.Selector)),
            _ => throw ApiException.UnknownPath(),
        };
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
            Status = new V1ScaleStatus { Replicas = statusReplicas, Selector = selector },
        };
    }

    /// <summary>POST pods/{name}/binding: sets spec.nodeName once; a bound pod is a 409 Conflict.</summary>
    private async Task BindAsync(HttpContext context, string? ns, string name)
    {
        var binding = await RequestBodies.ReadJsonAsync<V1Binding>(context, "Binding", "v1")
                      ?? throw ApiException.BadRequest("the body of the request was empty");
        var pods = ApiResources.Pods;
        var node = binding.Target?.Name;
        if (string.IsNullOrEmpty(node)) throw ApiException.Invalid(pods, name, "target.name", "Required value");
        if (binding.Metadata?.Name is { Length: > 0 } bindingName && bindingName != name)
            throw ApiException.BadRequest($"the name of the object ({bindingName}) does not match the name on the URL ({name})");
        var dryRun = WriteOptions.DryRun(context);
        await resources.PatchLoopAsync(context, pods, ns, name, current =>
        {
            var pod = (V1Pod)KubeObjects.CloneObject(current);
            if (!string.IsNullOrEmpty(pod.Spec?.NodeName))
                throw new ApiException(409, "Conflict",
                    $"Operation cannot be fulfilled on pods/binding \"{name}\": pod {name} is already assigned to node \"{pod.Spec.NodeName}\"",
                    new V1StatusDetails { Name = name, Kind = "pods/binding" });
            pod.Spec ??= new V1PodSpec();
            pod.Spec.NodeName = node;
            if (binding.Metadata?.Uid is { Length: > 0 } uid && uid != pod.Metadata.Uid)
                throw new ApiException(409, "Conflict", $"Precondition failed: UID in precondition: {uid}, UID in object meta: {pod.Metadata.Uid}");
            return pod;
        }, pod => new UpdateObject(ResourceKey.StoreName(pods), pod, null, dryRun));
        await ApiResponses.WriteJsonAsync(context, 201, StatusResponses.Success(201));
    }
}
