using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Policy;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// POST pods/{name}/eviction (policy/v1 Eviction), what <c>kubectl drain</c> sends for each pod of the node, as
/// Kubernetes' eviction REST does: a pod that runs and is matched by a PodDisruptionBudget is evicted only when the
/// budget's status (kept by the disruption controller) allows a disruption; the budget's disruptionsAllowed is then
/// decremented and the pod recorded in its disruptedPods (a conditional status write, retried on conflict), else
/// 429 TooManyRequests with the DisruptionBudget cause (kubectl drain waits and retries). Two budgets for one pod are a
/// 500, as in Kubernetes. Then the pod is deleted (with the Eviction's delete options' UID/resourceVersion
/// preconditions) and the answer is 201 with a success Status. Pending and finished pods are deleted without a budget.
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
        var pod = (V1Pod)await store.GetAsync(pods, ns, name, context.RequestAborted);
        if (pod.Status?.Phase is not ("Succeeded" or "Failed" or "Pending") && pod.Metadata.DeletionTimestamp is null)
            await CheckBudgetAsync(pod, ns, dryRun, context.RequestAborted);
        await store.ObjectAsync(new DeleteObject(ResourceKey.Of(pods, ns, name),
            options?.Preconditions?.Uid, options?.Preconditions?.ResourceVersion, DryRun: dryRun), pods, name, context.RequestAborted);
        await ApiResponses.WriteStatusAsync(context, 201, StatusResponses.Success(201));
    }

    private const string BudgetRefused = "Cannot evict pod as it would violate the pod's disruption budget.";

    /// <summary>Kubernetes' checkAndDecrement over the pod's one budget, retried on a conflicting write.</summary>
    private async Task CheckBudgetAsync(V1Pod pod, string? ns, bool dryRun, CancellationToken cancellationToken)
    {
        var budgets = PolicyResources.PodDisruptionBudgets;
        for (var attempt = 0; ; attempt++)
        {
            var listed = await store.ListAsync(budgets, ns, cancellationToken);
            var matching = listed.Items.OfType<V1PodDisruptionBudget>()
                .Where(b => b.Spec?.Selector is { } selector && LabelSelector.FromLabelSelector(selector).Matches(pod.Metadata.Labels)).ToList();
            if (matching.Count == 0) return;
            if (matching.Count > 1)
                throw new ApiException(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
            var pdb = matching[0];
            var status = pdb.Status ?? new V1PodDisruptionBudgetStatus();
            if ((status.ObservedGeneration ?? 0) < (pdb.Metadata.Generation ?? 0))
                throw TooManyRequests($"The disruption budget {pdb.Metadata.Name} is still being processed by the server.");
            if (status.DisruptionsAllowed <= 0)
                throw TooManyRequests($"The disruption budget {pdb.Metadata.Name} needs {status.DesiredHealthy} healthy pods and has {status.CurrentHealthy} currently");
            if (status.DisruptedPods?.Count > 2000)
                throw TooManyRequests("DisruptedPods map too big - too many evictions not confirmed by PDB controller");
            var updated = KubeObjects.Clone(pdb);
            updated.Status.DisruptionsAllowed = status.DisruptionsAllowed - 1;
            updated.Status.DisruptedPods = new Dictionary<string, DateTime?>(status.DisruptedPods ?? new Dictionary<string, DateTime?>())
            {
                [pod.Metadata.Name] = DateTime.UtcNow,
            };
            var reply = await store.AskAsync(new UpdateObject(budgets.StoreName, updated, "status", dryRun), cancellationToken, budgets);
            if (reply is ObjectStored) return;
            if (reply is StoreFailed { Error.Code: 409 } && attempt < 5) continue;
            if (reply is StoreFailed failed) throw ApiException.FromStore(failed.Error, budgets, pdb.Metadata.Name);
            throw new InvalidOperationException($"unexpected store reply {reply.GetType().Name}");
        }
    }

    private static ApiException TooManyRequests(string cause) =>
        new(429, "TooManyRequests", BudgetRefused, new V1StatusDetails
        {
            Causes = [new V1StatusCause { Reason = "DisruptionBudget", Message = cause }],
        });
}
