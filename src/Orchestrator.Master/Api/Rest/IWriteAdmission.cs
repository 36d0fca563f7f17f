using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// A check of the API layer on an object about to be created or updated (by create, update, patch or apply), with
/// the request at hand — what the store's strategies cannot know, such as who is asking (RBAC's escalation check).
/// Throws an <see cref="Http.ApiException"/> to refuse; nothing is written then. <c>old</c> is the stored object an
/// update replaces when the handler has read it (a patch or an apply: admission's old object); null for a create or a
/// PUT, whose old object only the store sees.
/// </summary>
internal interface IWriteAdmission
{
    void Admit(HttpContext context, ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old);

    /// <summary>The same for an update through a subresource (status); most checks judge only the main resource.</summary>
    void AdmitSubresource(HttpContext context, ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj, string subresource,
        IKubernetesObject<V1ObjectMeta>? old)
    {
    }
}
