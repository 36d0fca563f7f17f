using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Storage;

/// <summary>
/// Converts custom objects through their definition's conversion webhook (<see cref="WebhookConversion"/>); implemented in
/// Api/Webhooks (the webhook clients), used by <see cref="ObjectStoreClient"/> on the request's path, never the store's.
/// </summary>
internal interface IWebhookConverter
{
    /// <summary>One ConversionReview of <paramref name="objects"/> (none of them already in <paramref name="desiredApiVersion"/>),
    /// the answer checked as kube checks it; the converted objects in the same order. A failure is kube's 500 Status
    /// ("conversion webhook for GROUP/VERSION, Kind=KIND failed: …") as an ApiException. <paramref name="list"/>: the objects
    /// are (some of) a list's, which kube's messages name differently.</summary>
    Task<IReadOnlyList<IKubernetesObject<V1ObjectMeta>>> ConvertAsync(WebhookConversion conversion,
        IReadOnlyList<IKubernetesObject<V1ObjectMeta>> objects, string desiredApiVersion, bool list, CancellationToken cancellationToken);
}
