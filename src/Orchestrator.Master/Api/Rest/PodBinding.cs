using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>POST pods/{name}/binding: sets spec.nodeName once; a bound pod is a 409 Conflict.</summary>
internal sealed class PodBinding(ResourceHandlers resources) : ISubresourceHandler
{
    public string Group => "";
    public string Resource => "pods";
    public string Subresource => "binding";

    public async Task HandleAsync(HttpContext context, ResourceDescription pods, string? ns, string name)
    {
        if (!HttpMethods.IsPost(context.Request.Method)) throw ApiException.MethodNotAllowed(context.Request.Method);
        var binding = await RequestBodies.ReadJsonAsync<V1Binding>(context, "Binding", "v1")
                      ?? throw ApiException.BadRequest("the body of the request was empty");
        var node = binding.Target?.Name;
        if (string.IsNullOrEmpty(node)) throw ApiException.Invalid(pods, name, "target.name", "Required value");
        if (binding.Metadata?.Name is { Length: > 0 } bindingName && bindingName != name)
            throw ApiException.BadRequest($"the name of the object ({bindingName}) does not match the name on the URL ({name})");
        var dryRun = WriteOptions.DryRun(context);
        var manager = WriteOptions.Manager(context) is { } named ? named with { Subresource = "binding" } : null;
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
        }, pod => new UpdateObject(pods.StoreName, pod, null, dryRun, manager));
        await ApiResponses.WriteJsonAsync(context, 201, StatusResponses.Success(201));
    }
}
