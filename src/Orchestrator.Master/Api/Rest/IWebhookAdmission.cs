using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// Admission webhooks (Api/Webhooks), called by the write handlers on the request's own path — network I/O never runs in
/// the store's serial path: mutating webhooks, then validating ones, on the object about to be written (null for a
/// delete) and the stored one (null for a create). Throws an <see cref="Http.ApiException"/> to refuse. The handler
/// writes what comes back with the resourceVersion of <paramref name="old"/> as a precondition and runs the webhooks
/// again on a conflict, so the object the webhooks saw is the one stored.
/// </summary>
internal interface IWebhookAdmission
{
    /// <summary>Whether any webhook may be called for the resource (a read of the store's view): when none may, the
    /// handlers write as they would without webhooks.</summary>
    Task<bool> ConfiguredAsync(ResourceDescription resource, CancellationToken ct);

    Task<WebhookAdmitted> AdmitAsync(HttpContext context, ResourceDescription resource, string operation, string? subresource,
        IKubernetesObject<V1ObjectMeta>? obj, IKubernetesObject<V1ObjectMeta>? old);
}

/// <summary>The object to write (the mutating webhooks' patches applied) and whether any webhook was called.</summary>
internal sealed record WebhookAdmitted(IKubernetesObject<V1ObjectMeta>? Object, bool Called);
