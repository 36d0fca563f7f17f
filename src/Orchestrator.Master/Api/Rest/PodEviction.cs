using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// POST pods/{name}/eviction (policy/v1 Eviction), what <c>kubectl drain</c> sends for each pod of the node:
/// deletes the pod (with the Eviction's delete options' UID/resourceVersion preconditions) and answers 201 with a
/// success Status. There are no PodDisruptionBudgets here, so an eviction is never refused with 429.
/// </summary>
internal sealed class PodEviction(ObjectStoreClient store) : ISubresourceHandler
{
    public string Group => "";
    public string Resource => "pods";
    public string Subresource => "eviction";

    public async Task HandleAsync(HttpContext context, ResourceDescription pods, string? ns, string name)
    {
        if (!HttpMethods.IsPost(context.Request.Method)) throw ApiException.MethodNotAllowed(context.Request.Method);
        var eviction = await RequestBodies.ReadJsonAsync<V1Eviction>(context, "Eviction", "policy/v1")
                       ?? throw ApiException.BadRequest("the body of the request was empty");
        if (eviction.Metadata?.Name is { Length: > 0 } evicted && evicted != name)
            throw ApiException.BadRequest($"name in URL does not match name in Eviction object");
        var options = eviction.DeleteOptions;
        var dryRun = WriteOptions.DryRun(context) || options?.DryRun?.Contains("All") == true;
        await store.ObjectAsync(new DeleteObject(ResourceKey.Of(pods, ns, name),
            options?.Preconditions?.Uid, options?.Preconditions?.ResourceVersion, DryRun: dryRun), pods, name, context.RequestAborted);
        await ApiResponses.WriteJsonAsync(context, 201, StatusResponses.Success(201));
    }
}
