using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Identity;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Core;

namespace Orchestrator.Master.Api.Authentication;

/// <summary>
/// kube-apiserver's ServiceAccount token authenticator: a JWT of this cluster's issuer, valid now and for one of the
/// audiences, whose ServiceAccount (and bound pod, secret or node) still exists with the uid in the token — a deleted
/// or recreated object ends every token bound to it. The user is system:serviceaccount:NS:NAME (uid = the account's)
/// in system:serviceaccounts, system:serviceaccounts:NS and system:authenticated, with kube's extra values (the
/// credential id, the bound pod and its node).
/// </summary>
internal sealed class ServiceAccountAuthenticator(ServiceAccountTokens tokens, ObjectStoreClient store) : ITokenAuthenticator
{
    /// <summary>A bound object deleted longer ago than this no longer backs a token (kube's grace for pods terminating).</summary>
    private static readonly TimeSpan DeletionGrace = TimeSpan.FromSeconds(60);

    public const string CredentialIdKey = "authentication.kubernetes.io/credential-id";
    public const string PodNameKey = "authentication.kubernetes.io/pod-name";
    public const string PodUidKey = "authentication.kubernetes.io/pod-uid";
    public const string NodeNameKey = "authentication.kubernetes.io/node-name";
    public const string NodeUidKey = "authentication.kubernetes.io/node-uid";

    public async Task<TokenAuthentication> AuthenticateAsync(string token, IReadOnlyList<string>? audiences, CancellationToken cancellationToken)
    {
        var (claims, rejected) = tokens.Check(token, audiences);
        if (rejected is { NotOurs: true }) return TokenAuthentication.Unknown;
        if (rejected is not null) return TokenAuthentication.Refused(rejected.Message);
        if (await BackingProblemAsync(claims!, cancellationToken) is { } problem) return TokenAuthentication.Refused(problem);
        var wanted = audiences is { Count: > 0 } ? audiences : tokens.ApiAudiences;
        return new TokenAuthentication(UserOf(claims!), claims!.Audiences.Intersect(wanted).ToList(), null);
    }

    public static UserInfo UserOf(ServiceAccountClaims claims)
    {
        var extra = new Dictionary<string, IReadOnlyList<string>>();
        if (claims.Id.Length > 0) extra[CredentialIdKey] = ["JTI=" + claims.Id];
        if (claims.Pod is { } pod)
        {
            extra[PodNameKey] = [pod.Name];
            extra[PodUidKey] = [pod.Uid];
        }
        if (claims.Node is { } node)
        {
            extra[NodeNameKey] = [node.Name];
            extra[NodeUidKey] = [node.Uid];
        }
        return AccountUser(claims.Subject, claims.Namespace, claims.ServiceAccountUid, extra);
    }

    /// <summary>A ServiceAccount as a user: its name and uid, in system:serviceaccounts, system:serviceaccounts:NS and
    /// system:authenticated (kube's serviceaccount.UserInfo), with the token's extra values.</summary>
    public static UserInfo AccountUser(string subject, string ns, string uid, Dictionary<string, IReadOnlyList<string>> extra) =>
        new(subject, uid, [UserInfo.ServiceAccountsGroup, $"{UserInfo.ServiceAccountsGroup}:{ns}", UserInfo.AllAuthenticated], extra);

    /// <summary>Why the objects the token names no longer back it, with kube's messages; null when they do.</summary>
    private async Task<string?> BackingProblemAsync(ServiceAccountClaims claims, CancellationToken cancellationToken)
    {
        var invalidIfDeletedBefore = tokens.Now - DeletionGrace;
        var (account, accountError) = await GetAsync(CoreResources.ServiceAccounts, claims.Namespace, claims.ServiceAccountName, cancellationToken);
        if (account is null) return accountError;
        if (account.Metadata.DeletionTimestamp is { } deleted && deleted < invalidIfDeletedBefore.UtcDateTime)
            return $"service account {claims.Namespace}/{claims.ServiceAccountName} has been deleted";
        if (account.Metadata.Uid != claims.ServiceAccountUid)
            return $"service account UID ({account.Metadata.Uid}) does not match claim ({claims.ServiceAccountUid})";
        if (claims.Pod is { } podRef)
        {
            var (pod, podError) = await GetAsync(CoreResources.Pods, claims.Namespace, podRef.Name, cancellationToken);
            if (pod is null) return podError;
            if (pod.Metadata.Uid != podRef.Uid) return $"pod UID ({pod.Metadata.Uid}) does not match claim ({podRef.Uid})";
            if (pod.Metadata.DeletionTimestamp is { } podDeleted && podDeleted < invalidIfDeletedBefore.UtcDateTime)
                return $"pod ({podRef.Name}) deleted more than {DeletionGrace.TotalSeconds}s ago";
        }
        if (claims.Secret is { } secretRef)
        {
            var (secret, secretError) = await GetAsync(CoreResources.Secrets, claims.Namespace, secretRef.Name, cancellationToken);
            if (secret is null) return secretError;
            if (secret.Metadata.Uid != secretRef.Uid) return $"secret UID ({secret.Metadata.Uid}) does not match claim ({secretRef.Uid})";
        }
        // A pod-bound token names its pod's node as information; only a token bound to the node itself dies with it.
        if (claims.Node is { } nodeRef && claims.Pod is null)
        {
            var (node, nodeError) = await GetAsync(CoreResources.Nodes, null, nodeRef.Name, cancellationToken);
            if (node is null) return nodeError;
            if (node.Metadata.Uid != nodeRef.Uid) return $"node UID ({node.Metadata.Uid}) does not match claim ({nodeRef.Uid})";
        }
        return null;
    }

    private Task<(k8s.IKubernetesObject<V1ObjectMeta>? Object, string? Error)> GetAsync(ResourceDescription resource, string? ns,
        string name, CancellationToken cancellationToken) => GetAsync(store, resource, ns, name, cancellationToken);

    /// <summary>An object a token names, or why it cannot back the token now (the store's message).</summary>
    public static async Task<(k8s.IKubernetesObject<V1ObjectMeta>? Object, string? Error)> GetAsync(ObjectStoreClient store,
        ResourceDescription resource, string? ns, string name, CancellationToken cancellationToken)
    {
        try
        {
            return (await store.GetAsync(resource, ns, name, cancellationToken), null);
        }
        catch (ApiException e) // not found, or the store did not answer: either way the token is not backed now
        {
            return (null, e.Message);
        }
    }
}
