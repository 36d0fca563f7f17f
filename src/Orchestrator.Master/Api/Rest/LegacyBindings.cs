using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Core;

namespace Orchestrator.Master.Api.Rest;

/// <summary>POST /api/v1/namespaces/{ns}/bindings: the core group's create-only <c>bindings</c> resource
/// (kube-apiserver's LegacyBindingREST), a Binding that names its pod in metadata.name, bound as pods/{name}/binding.</summary>
internal sealed class LegacyBindings(PodBinding binder) : IResourceView
{
    public ResourceDescription Resource => CoreResources.Bindings;

    public async Task HandleAsync(HttpContext context, RequestInfo info)
    {
        // only the namespaced collection serves create; the cluster-wide path and named paths are not routes
        if (info.Namespace is null || info.Name is not null || info.Subresource is not null) throw ApiException.UnknownPath();
        if (!HttpMethods.IsPost(context.Request.Method)) throw ApiException.MethodNotAllowed(context.Request.Method);
        var binding = await RequestBodies.ReadJsonAsync<V1Binding>(context, "Binding", "v1")
                      ?? throw ApiException.BadRequest("the body of the request was empty");
        await binder.BindAsync(context, CoreResources.Pods, info.Namespace, binding.Metadata?.Name ?? "", binding);
    }
}
