using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Certificates;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>
/// On every write of a CertificateSigningRequest's main resource: the requestor (spec.username, uid, groups, extra) is
/// the authenticated user, whatever the body says (kube's strategy PrepareForCreate; on updates the stored spec is
/// kept anyway); and, as kube's CertificateSubjectRestriction admission, no request for the kube-apiserver-client
/// signer may ask for the group system:masters.
/// </summary>
internal sealed class CertificateRequestAdmission : IWriteAdmission
{
    public const string KubeApiServerClientSigner = "kubernetes.io/kube-apiserver-client";

    public void Admit(HttpContext context, ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old)
    {
        if (obj is not V1CertificateSigningRequest csr || RequestUser.Get(context) is not { } user) return;
        var spec = csr.Spec ??= new V1CertificateSigningRequestSpec();
        spec.Username = user.Name;
        spec.Uid = user.Uid.Length > 0 ? user.Uid : null;
        spec.Groups = user.Groups.Count > 0 ? user.Groups.ToList() : null;
        spec.Extra = user.Extra.Count > 0 ? user.Extra.ToDictionary(kv => kv.Key, kv => (IList<string>)kv.Value.ToList()) : null;
        if (spec.SignerName != KubeApiServerClientSigner) return;
        // an unparseable request is the strategy's to refuse, with its validation message
        if (CertificateRequests.Parse(spec.Request).Parsed is { } request && request.Organizations.Contains(UserInfo.SystemMasters))
            throw RbacAuthorizer.Forbidden(CertificatesResources.Group, resource.Resource, csr.Metadata?.Name ?? "",
                $"use of {KubeApiServerClientSigner} signer with {UserInfo.SystemMasters} group is not allowed");
    }
}
