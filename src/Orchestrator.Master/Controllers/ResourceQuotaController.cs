using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Quota;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Kubernetes' resource quota controller: keeps each ResourceQuota's status.hard (its spec.hard) and status.used (what
/// the objects of its namespace in its scopes use, as <see cref="QuotaEvaluation"/> counts it) current. The store's
/// quota admission charges creates as they happen; this loop recounts, and so releases what deleted objects and
/// finished pods no longer use. It watches the kinds with quota names of their own, and any other a quota's
/// count/&lt;resource&gt;.&lt;group&gt; names, from the first such quota on. Writes quota status only, conditionally.
/// </summary>
internal sealed class ResourceQuotaController : ControllerActor
{
    private const string Quotas = "resourcequotas";
    private static readonly string[] CoreKinds = ["pods", "services", "persistentvolumeclaims", "configmaps", "secrets", "replicationcontrollers"];
    private readonly IResourceCatalog _catalog;

    private sealed record StatusTag(ResourceKey Quota);
    private sealed record ListTag(ResourceKey Quota, string StoreName);
    private sealed record CountedKind(string Group, string Resource, string StoreName);

    /// <summary>A recount in flight: the quota as read, and the store's lists of the kinds it counts as they arrive.</summary>
    private sealed record Recount(V1ResourceQuota Quota, IReadOnlyList<CountedKind> Kinds,
        Dictionary<string, IReadOnlyList<IKubernetesObject<V1ObjectMeta>>> Listed);

    private readonly Dictionary<ResourceKey, Recount> _recounts = new();
    private readonly HashSet<ResourceKey> _recountAgain = new();

    public ResourceQuotaController(IActorRef store, TimeSpan resync, IResourceCatalog catalog) : base(store, [Quotas, .. CoreKinds], resync) =>
        _catalog = catalog;

    public static Props Props(IActorRef store, TimeSpan resync, IResourceCatalog catalog) =>
        Akka.Actor.Props.Create(() => new ResourceQuotaController(store, resync, catalog));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Quotas);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        var obj = (current ?? old)!;
        if (resource == Quotas)
        {
            Enqueue(ObjectCache.KeyOf(resource, obj));
            return;
        }
        foreach (var quota in Cache.List<V1ResourceQuota>(Quotas, obj.Metadata.NamespaceProperty))
            Enqueue(ObjectCache.KeyOf(Quotas, quota));
    }

    protected override void Reconcile(ResourceKey key)
    {
        var quota = Cache.Get<V1ResourceQuota>(key.Resource, key.Namespace, key.Name);
        if (quota is null || quota.Metadata.DeletionTimestamp is not null) return;
        var hard = quota.Spec?.Hard ?? new Dictionary<string, ResourceQuantity>();
        var kinds = new List<CountedKind>();
        foreach (var (group, resource) in QuotaEvaluation.CountedKinds(hard.Keys))
        {
            // A kind not served (a custom resource not defined yet) has no objects to count.
            if (_catalog.Stored.FirstOrDefault(r => r.Group == group && r.Resource == resource)?.StoreName is not { } storeName) continue;
            if (!IsWatched(storeName))
            {
                Watch(storeName); // every quota is reconciled again once it is listed
                return;
            }
            kinds.Add(new CountedKind(group, resource, storeName));
        }
        var now = DateTime.UtcNow;
        RecheckWhenGraceEnds(key, now);
        var cached = kinds.Select(k => (k.Group, k.Resource, Cache.List<IKubernetesObject<V1ObjectMeta>>(k.StoreName, key.Namespace)));
        if (Recounted(quota, cached, now) is null) return;

        // The cache says the status is off, but each resource's feed reaches us on its own: the quota's charge for a
        // pod just created can arrive before the pod does, and a count from the cache would then release what is still
        // used. So the count that is written comes from the store's own lists, asked for after the quota version read;
        // the write is conditional on that version, and a charge in between makes it conflict and count again.
        if (_recounts.ContainsKey(key))
        {
            _recountAgain.Add(key);
            return;
        }
        if (kinds.Count == 0)
        {
            WriteStatus(key, quota, []);
            return;
        }
        _recounts[key] = new Recount(quota, kinds, new Dictionary<string, IReadOnlyList<IKubernetesObject<V1ObjectMeta>>>());
        foreach (var kind in kinds) Send(new ListObjects(kind.StoreName, key.Namespace), new ListTag(key, kind.StoreName));
    }

    private void OnListed(ListTag tag, StoreReplied reply)
    {
        if (!_recounts.TryGetValue(tag.Quota, out var recount)) return;
        if (reply.Listed is not { } listed)
        {
            FinishRecount(tag.Quota);
            RequeueAfter(tag.Quota, TimeSpan.FromSeconds(1));
            return;
        }
        recount.Listed[tag.StoreName] = listed.Items;
        if (recount.Listed.Count < recount.Kinds.Count) return;
        FinishRecount(tag.Quota);
        WriteStatus(tag.Quota, recount.Quota, recount.Kinds.Select(k => (k.Group, k.Resource, recount.Listed[k.StoreName].AsEnumerable())));
    }

    private void FinishRecount(ResourceKey key)
    {
        _recounts.Remove(key);
        if (_recountAgain.Remove(key)) Enqueue(key);
    }

    private void WriteStatus(ResourceKey key, V1ResourceQuota quota,
        IEnumerable<(string Group, string Resource, IEnumerable<IKubernetesObject<V1ObjectMeta>> Objects)> kinds)
    {
        if (Recounted(quota, kinds, DateTime.UtcNow) is not { } status) return;
        var updated = KubeObjects.Clone(quota);
        updated.Status = status;
        // Conditional on the resourceVersion read: the store's admission charges this status too; a conflict brings
        // the newer quota through the feed, and it is counted again.
        Send(new UpdateObject(Quotas, updated, "status"), new StatusTag(key));
    }

    /// <summary>The quota's status as the objects given count it, or null when that is what it already says.</summary>
    private static V1ResourceQuotaStatus? Recounted(V1ResourceQuota quota,
        IEnumerable<(string Group, string Resource, IEnumerable<IKubernetesObject<V1ObjectMeta>> Objects)> kinds, DateTime now)
    {
        var hard = quota.Spec?.Hard ?? new Dictionary<string, ResourceQuantity>();
        var used = ResourceLists.Mask(quota.Status?.Used, hard.Keys);
        foreach (var (name, value) in QuotaEvaluation.CalculateUsage(quota, kinds, now)) used[name] = value;
        if (ResourceLists.Equal(quota.Status?.Hard, hard) && ResourceLists.Equal(quota.Status?.Used, used)) return null;
        return new V1ResourceQuotaStatus { Hard = new Dictionary<string, ResourceQuantity>(hard), Used = used };
    }

    /// <summary>A pod being deleted stops counting when its grace period ends, without a change to wake us.</summary>
    private void RecheckWhenGraceEnds(ResourceKey key, DateTime now)
    {
        var next = Cache.List<V1Pod>("pods", key.Namespace)
            .Where(p => p.Metadata.DeletionTimestamp is not null && p.Metadata.DeletionGracePeriodSeconds is not null && QuotaEvaluation.Charged(p, now))
            .Select(p => p.Metadata.DeletionTimestamp!.Value.ToUniversalTime().AddSeconds(p.Metadata.DeletionGracePeriodSeconds!.Value))
            .DefaultIfEmpty(DateTime.MaxValue).Min();
        if (next != DateTime.MaxValue) RequeueAfter(key, next - now + TimeSpan.FromSeconds(1));
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is ListTag list) OnListed(list, reply);
        else if (reply.Tag is StatusTag tag && reply.Failed is { Error.Code: 409 }) RequeueAfter(tag.Quota, TimeSpan.FromMilliseconds(200));
        else base.OnStoreReplied(reply);
    }
}
