using System.Text;
using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>Signs a legacy token for the account (namespace, name, uid) to be kept in the named Secret.</summary>
internal delegate string LegacyTokenSigner(string @namespace, string accountName, string accountUid, string secretName);

/// <summary>
/// kube-controller-manager's service account token controller (pkg/controller/serviceaccount/tokens_controller.go) as
/// 1.32 runs it, without auto-generation: a Secret of type kubernetes.io/service-account-token naming a ServiceAccount
/// (annotation kubernetes.io/service-account.name) gets a token of that account, the cluster CA (ca.crt) and its
/// namespace, and the account's uid annotation; what it already holds is kept. A token Secret whose account does not
/// exist (or has another uid than the Secret names) is deleted, and so are an account's token Secrets when it is deleted;
/// a deleted token Secret is taken out of its account's <c>secrets</c> list.
/// </summary>
internal sealed class LegacyTokenController : ControllerActor
{
    public const string AccountNameAnnotation = "kubernetes.io/service-account.name";
    public const string AccountUidAnnotation = "kubernetes.io/service-account.uid";
    public const string TokenType = "kubernetes.io/service-account-token";
    private const string Secrets = "secrets";
    private const string ServiceAccounts = "serviceaccounts";

    /// <summary>How long a new token Secret may wait for its account before it is deleted. kube's controller deletes it at
    /// its first sync; the grace covers an account created in the same apply right after the Secret.</summary>
    internal static readonly TimeSpan AccountGrace = TimeSpan.FromSeconds(5);

    private readonly LegacyTokenSigner _sign;
    private readonly byte[]? _rootCa;
    /// <summary>Token Secrets seen deleted, by their account's key: the references to take out of its list.</summary>
    private readonly Dictionary<ResourceKey, HashSet<string>> _deletedTokens = new();

    public LegacyTokenController(IActorRef store, TimeSpan resync, LegacyTokenSigner sign, string? rootCaPem)
        : base(store, [ServiceAccounts, Secrets], resync)
    {
        _sign = sign;
        _rootCa = rootCaPem is null ? null : Encoding.UTF8.GetBytes(rootCaPem);
        Cache.IndexBy(Secrets, o => o is V1Secret { Type: TokenType } s ? AccountKeyOf(s).ToString() : null);
    }

    public static Props Props(IActorRef store, TimeSpan resync, LegacyTokenSigner sign, string? rootCaPem) =>
        Akka.Actor.Props.Create(() => new LegacyTokenController(store, resync, sign, rootCaPem));

    protected override IEnumerable<ResourceKey> AllKeys() =>
        Cache.List<V1Secret>(Secrets).Where(s => s.Type == TokenType).Select(s => ObjectCache.KeyOf(Secrets, s));

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == Secrets)
        {
            if (current is V1Secret { Type: TokenType } secret) Enqueue(ObjectCache.KeyOf(Secrets, secret));
            else if (current is null && old is V1Secret { Type: TokenType } gone)
            {
                var account = AccountKeyOf(gone);
                if (!_deletedTokens.TryGetValue(account, out var names)) _deletedTokens[account] = names = new HashSet<string>(StringComparer.Ordinal);
                names.Add(gone.Metadata.Name);
                Enqueue(account);
            }
            return;
        }
        // an account that appears, changes or goes: its token Secrets are filled or deleted
        var meta = (current ?? old)!.Metadata;
        foreach (var secret in Cache.ListBy<V1Secret>(Secrets, new ResourceKey(ServiceAccounts, meta.NamespaceProperty, meta.Name).ToString()).ToList())
            Enqueue(ObjectCache.KeyOf(Secrets, secret));
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (key.Resource == ServiceAccounts) RemoveDeletedReferences(key);
        else if (Cache.Get(key) is V1Secret { Type: TokenType } secret && secret.Metadata.DeletionTimestamp is null) Reconcile(key, secret);
    }

    private void Reconcile(ResourceKey key, V1Secret secret)
    {
        var annotations = secret.Metadata.Annotations ?? new Dictionary<string, string>();
        var wantedUid = (annotations.TryGetValue(AccountUidAnnotation, out var uid) ? uid : "");
        var account = Cache.Get<V1ServiceAccount>(ServiceAccounts, secret.Metadata.NamespaceProperty, (annotations.TryGetValue(AccountNameAnnotation, out var name) ? name : ""));
        if (account is null || account.Metadata.DeletionTimestamp is not null || wantedUid.Length > 0 && wantedUid != account.Metadata.Uid)
        {
            var age = DateTime.UtcNow - (secret.Metadata.CreationTimestamp ?? DateTime.UtcNow);
            if (account is null && age < AccountGrace) RequeueAfter(key, AccountGrace - age);
            else Send(new DeleteObject(key, PreconditionUid: secret.Metadata.Uid), key);
            return;
        }

        var data = secret.Data ?? new Dictionary<string, byte[]>();
        var needsCa = _rootCa is { Length: > 0 } && !(data.TryGetValue("ca.crt", out var ca) && ca.AsSpan().SequenceEqual(_rootCa));
        var needsNamespace = !(data.TryGetValue("namespace", out var ns) && ns.Length > 0);
        var needsToken = !(data.TryGetValue("token", out var token) && token.Length > 0);
        if (!needsCa && !needsNamespace && !needsToken) return;

        var updated = KubeObjects.Clone(secret);
        updated.Data ??= new Dictionary<string, byte[]>();
        if (needsCa) updated.Data["ca.crt"] = _rootCa!;
        if (needsNamespace) updated.Data["namespace"] = Encoding.UTF8.GetBytes(secret.Metadata.NamespaceProperty);
        if (needsToken)
            updated.Data["token"] = Encoding.UTF8.GetBytes(_sign(account.Metadata.NamespaceProperty, account.Metadata.Name, account.Metadata.Uid,
                secret.Metadata.Name));
        updated.Metadata.Annotations ??= new Dictionary<string, string>();
        updated.Metadata.Annotations[AccountNameAnnotation] = account.Metadata.Name;
        updated.Metadata.Annotations[AccountUidAnnotation] = account.Metadata.Uid;
        // the cached version is the precondition: a Secret changed since comes back through OnChanged
        Send(new UpdateObject(Secrets, updated) { HandedOver = true }, key);
    }

    private void RemoveDeletedReferences(ResourceKey accountKey)
    {
        if (!_deletedTokens.Remove(accountKey, out var deleted)) return;
        if (Cache.Get(accountKey) is not V1ServiceAccount account || account.Secrets is not { Count: > 0 } references) return;
        // a name taken again by a new token Secret stays referenced
        var gone = deleted.Where(name => Cache.Get(new ResourceKey(Secrets, accountKey.Namespace, name)) is null).ToHashSet(StringComparer.Ordinal);
        if (!references.Any(r => gone.Contains(r.Name))) return;
        var updated = KubeObjects.Clone(account);
        updated.Secrets = references.Where(r => !gone.Contains(r.Name)).ToList();
        Send(new UpdateObject(ServiceAccounts, updated) { HandedOver = true }, accountKey);
    }

    private static ResourceKey AccountKeyOf(V1Secret secret) =>
        new(ServiceAccounts, secret.Metadata.NamespaceProperty, (secret.Metadata.Annotations?.TryGetValue(AccountNameAnnotation, out var name) == true ? name : ""));

    protected override void OnStoreReplied(StoreReplied reply)
    {
        // Conflict: the object changed and comes back through OnChanged; NotFound: it is gone. Anything else is tried again.
        if (reply.Tag is ResourceKey key && reply.Failed is { } failed && failed.Error.Code is not (409 or 404))
            RequeueAfter(key, TimeSpan.FromSeconds(1));
        base.OnStoreReplied(reply);
    }
}
