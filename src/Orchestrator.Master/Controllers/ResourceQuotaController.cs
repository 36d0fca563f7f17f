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
        var kinds = new List<(string, string, IEnumerable<IKubernetesObject<V1ObjectMeta>>)>();
        var now = DateTime.UtcNow;
        foreach (var (group, resource) in QuotaEvaluation.CountedKinds(hard.Keys))
        {
            // A kind not served (a custom resource not defined yet) has no objects to count.
            if (_catalog.Stored.FirstOrDefault(r => r.Group == group && r.Resource == resource)?.StoreName is not { } storeName) continue;
            if (!IsWatched(storeName))
            {
                Watch(storeName); // every quota is reconciled again once it is listed
                return;
            }
            kinds.Add((group, resource, Cache.List<IKubernetesObject<V1ObjectMeta>>(storeName, key.Namespace)));
        }
        var used = ResourceLists.Mask(quota.Status?.Used, hard.Keys);
        foreach (var (name, value) in QuotaEvaluation.CalculateUsage(quota, kinds, now)) used[name] = value;
        RecheckWhenGraceEnds(key, now);

        if (ResourceLists.Equal(quota.Status?.Hard, hard) && ResourceLists.Equal(quota.Status?.Used, used)) return;
        var updated = KubeObjects.Clone(quota);
        updated.Status = new V1ResourceQuotaStatus { Hard = new Dictionary<string, ResourceQuantity>(hard), Used = used };
        // Conditional on the resourceVersion read: the store's admission charges this status too; a conflict brings
        // the newer quota through the feed, and it is counted again.
        Send(new UpdateObject(Quotas, updated, "status"), new StatusTag(key));
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
        if (reply.Tag is StatusTag tag && reply.Failed is { Error.Code: 409 }) RequeueAfter(tag.Quota, TimeSpan.FromMilliseconds(200));
        else base.OnStoreReplied(reply);
    }
}
