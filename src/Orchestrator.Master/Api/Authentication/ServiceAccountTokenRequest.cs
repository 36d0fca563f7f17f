using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Identity;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Authentication;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Authentication;

/// <summary>
/// POST serviceaccounts/{name}/token (authentication.k8s.io/v1 TokenRequest), what <c>kubectl create token</c> and
/// kubelets send, as kube-apiserver's token REST: expirationSeconds defaults to 3600 and must be at least 600, the
/// audiences default to the API's, and a token may be bound to a Pod (running as this account), a Secret or a Node
/// of the account's namespace, whose uid must match when given. The answer is 201 with the request, its status
/// holding the JWT and its expirationTimestamp. A dry run checks everything and issues no token.
/// </summary>
internal sealed class ServiceAccountTokenRequest(ServiceAccountTokens tokens, ObjectStoreClient store, RequestBodies bodies) : ISubresourceHandler
{
    public const long DefaultExpirationSeconds = 3600;
    public const long MinExpirationSeconds = 600;
    private const long MaxExpirationSeconds = 1L << 32;

    public string Group => "";
    public string Resource => "serviceaccounts";
    public string Subresource => "token";

    public async Task HandleAsync(HttpContext context, ResourceDescription serviceAccounts, string? ns, string name)
    {
        if (!HttpMethods.IsPost(context.Request.Method)) throw ApiException.MethodNotAllowed(context.Request.Method);
        var request = (Authenticationv1TokenRequest)await bodies.ReadObjectAsync(context, AuthenticationResources.TokenRequestBodies);
        request.Spec ??= new V1TokenRequestSpec();
        var spec = request.Spec;
        spec.ExpirationSeconds ??= DefaultExpirationSeconds;
        if (spec.ExpirationSeconds < MinExpirationSeconds)
            throw Invalid(name, "spec.expirationSeconds", $"Invalid value: {spec.ExpirationSeconds}: may not specify a duration less than 10 minutes");
        if (spec.ExpirationSeconds > MaxExpirationSeconds)
            throw Invalid(name, "spec.expirationSeconds", $"Invalid value: {spec.ExpirationSeconds}: may not specify a duration larger than 2^32 seconds");
        if (spec.Audiences is null || spec.Audiences.Count == 0) spec.Audiences = tokens.ApiAudiences.ToList();

        var account = await store.GetAsync(serviceAccounts, ns, name, context.RequestAborted);
        BoundObject? pod = null, secret = null, node = null;
        if (spec.BoundObjectRef is { } bound)
        {
            var (group, _) = ApiVersions.GroupVersionOf(bound.ApiVersion); // schema.FromAPIVersionAndKind
            switch (group, bound.Kind)
            {
                case ("", "Pod"):
                    var boundPod = (V1Pod)await BoundAsync(CoreResources.Pods, ns, bound, context.RequestAborted);
                    if ((boundPod.Spec?.ServiceAccountName ?? "default") != name)
                        throw ApiException.BadRequest($"cannot bind token for serviceaccount \"{name}\" to pod running with different serviceaccount name.");
                    pod = new BoundObject(boundPod.Metadata.Name, boundPod.Metadata.Uid);
                    if (boundPod.Spec?.NodeName is { Length: > 0 } nodeName)
                    {
                        // The pod's node as information (kube's ServiceAccountTokenPodNodeInfo); a node gone meanwhile is left out.
                        try
                        {
                            var podNode = await store.GetAsync(CoreResources.Nodes, null, nodeName, context.RequestAborted);
                            node = new BoundObject(nodeName, podNode.Metadata.Uid);
                        }
                        catch (ApiException e) when (e.Code == 404)
                        {
                        }
                    }
                    break;
                case ("", "Secret"):
                    var boundSecret = await BoundAsync(CoreResources.Secrets, ns, bound, context.RequestAborted);
                    secret = new BoundObject(boundSecret.Metadata.Name, boundSecret.Metadata.Uid);
                    break;
                case ("", "Node"):
                    var boundNode = await BoundAsync(CoreResources.Nodes, null, bound, context.RequestAborted);
                    node = new BoundObject(boundNode.Metadata.Name, boundNode.Metadata.Uid);
                    break;
                default:
                    var gvk = string.IsNullOrEmpty(bound.ApiVersion) ? $", Kind={bound.Kind}" : $"{bound.ApiVersion}, Kind={bound.Kind}";
                    throw ApiException.BadRequest($"cannot bind token for serviceaccount \"{name}\" to object of type {gvk}");
            }
        }

        var lifetime = TimeSpan.FromSeconds(spec.ExpirationSeconds.Value);
        var claims = tokens.NewClaims(ns!, name, account.Metadata.Uid, spec.Audiences.ToList(), lifetime, pod, secret, node);
        request.ApiVersion = "authentication.k8s.io/v1";
        request.Kind = "TokenRequest";
        request.Metadata ??= new V1ObjectMeta();
        request.Metadata.Name = name;
        request.Metadata.NamespaceProperty = ns;
        request.Metadata.CreationTimestamp = claims.IssuedAt.UtcDateTime;
        if (!WriteOptions.DryRun(context))
        {
            // The expiry announced is the one asked for, also when the token itself lasts longer (kube's extension of
            // kubelet's tokens): the holder refreshes on schedule.
            request.Status = new V1TokenRequestStatus
            {
                Token = tokens.Sign(claims), ExpirationTimestamp = (claims.IssuedAt + lifetime).UtcDateTime,
            };
        }
        await ProtobufAnswers.WriteAnswerAsync(context, 201, ObjectJson.ToJson(request, request.ApiVersion, request.Kind),
            ProtobufAnswers.TokenRequest, request.ApiVersion, request.Kind);
    }

    /// <summary>The bound object, refused with kube's conflict when it is not the one of the uid given.</summary>
    private async Task<k8s.IKubernetesObject<V1ObjectMeta>> BoundAsync(ResourceDescription resource, string? ns, V1BoundObjectReference bound,
        CancellationToken cancellationToken)
    {
        var obj = await store.GetAsync(resource, ns, bound.Name ?? "", cancellationToken);
        if (bound.Uid is { Length: > 0 } uid && uid != obj.Metadata.Uid)
            throw new ApiException(409, "Conflict",
                $"Operation cannot be fulfilled on {bound.Kind!.ToLowerInvariant()} \"{bound.Name}\": the UID in the bound object reference ({uid}) does not match the UID in record. The object might have been deleted and then recreated",
                new V1StatusDetails { Name = bound.Name, Kind = bound.Kind!.ToLowerInvariant() });
        return obj;
    }

    private static ApiException Invalid(string name, string field, string message) =>
        new(422, "Invalid", $"TokenRequest.authentication.k8s.io \"{name}\" is invalid: {field}: {message}",
            new V1StatusDetails
            {
                Name = name, Group = "authentication.k8s.io", Kind = "TokenRequest",
                Causes = [new V1StatusCause { Field = field, Reason = "FieldValueInvalid", Message = message }],
            });
}
