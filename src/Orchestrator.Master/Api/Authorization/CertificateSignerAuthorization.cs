using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Certificates;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>
/// A CertificateSigningRequest's /approval (verb "approve") or /status (verb "sign") written only by a user who may do
/// that verb on the request's signer, as kube's certificates/approval and certificates/signing admission plugins check
/// (certificates.k8s.io "signers", resourceName the signerName or "domain/*"). The signer is the stored request's,
/// never the body's. Difference from kube: a /status write is checked even when it changes neither the certificate
/// nor the conditions.
/// </summary>
internal sealed class CertificateSignerAuthorization(string subresource, string verb, RbacAuthorizer authorizer,
    ObjectStoreClient store, ResourceHandlers resources) : ISubresourceHandler
{
    public string Group => CertificatesResources.Group;
    public string Resource => CertificatesResources.CertificateSigningRequests.Resource;
    public string Subresource => subresource;

    public async Task HandleAsync(HttpContext context, ResourceDescription resource, string? ns, string name)
    {
        if (context.Request.Method is "GET")
        {
            await resources.GetAsync(context, resource, ns, name);
            return;
        }
        if (context.Request.Method is not ("PUT" or "PATCH")) throw ApiException.MethodNotAllowed(context.Request.Method);
        var stored = (V1CertificateSigningRequest)await store.GetAsync(resource, ns, name, context.RequestAborted);
        var signer = stored.Spec?.SignerName ?? "";
        if (RequestUser.Get(context) is not { } user || !IsAuthorizedForSignerName(authorizer, user, verb, signer))
            throw RbacAuthorizer.Forbidden(Group, Resource, name, $"user not permitted to {verb} requests with signerName \"{signer}\"");
        if (context.Request.Method == "PUT") await resources.UpdateAsync(context, resource, ns, name, subresource);
        else await resources.PatchAsync(context, resource, ns, name, subresource);
    }

    /// <summary>The verb on the signer itself, else on every signer of its domain ("example.com/*").</summary>
    public static bool IsAuthorizedForSignerName(RbacAuthorizer authorizer, UserInfo user, string verb, string signerName)
    {
        AuthorizationAttributes On(string signer) => new(user, verb, true, ApiGroup: CertificatesResources.Group, ApiVersion: "*",
            Resource: "signers", Name: signer);
        return authorizer.Allows(On(signerName)) || authorizer.Allows(On(signerName.Split('/')[0] + "/*"));
    }
}
