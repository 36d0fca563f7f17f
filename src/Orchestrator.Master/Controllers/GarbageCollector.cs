using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Cascading deletion through ownerReferences (Kubernetes' garbage collector):
/// <list type="bullet">
/// <item>an object all of whose owners are gone (by uid) is deleted in the background — after asking the store
///   itself, since an owner may merely be missing from this actor's cache (watches of different resources are
///   not ordered with each other);</item>
/// <item>an object being deleted with the <c>foregroundDeletion</c> finalizer has its dependents deleted, and
///   loses the finalizer once no blocking dependent is left (the store then removes it);</item>
/// <item>an object being deleted with the <c>orphan</c> finalizer has its dependents' references to it removed,
///   then loses the finalizer.</item>
/// </list>
/// Like Kubernetes' collector it watches every resource but events (any object may own or be owned: an operator's
/// custom object owns the StatefulSet, Service and ServiceAccount it made, or other custom objects): every resource
/// the catalog holds when it starts, then each resource <see cref="ForeignDeletions"/> sees a change in (a custom
/// resource defined since). Never deletes an object that has a live owner, nor anything whose owner kind it does not
/// know (kinds come from the store's catalog, custom resources included).
/// </summary>
internal sealed class GarbageCollector : ControllerActor
{
    public const string ForegroundFinalizer = "foregroundDeletion";
    public const string OrphanFinalizer = "orphan";

    /// <summary>Resources whose objects neither own nor are owned by anything the collector handles: events, which
    /// Kubernetes' collector ignores too (they are many and short-lived, and name their object in involvedObject).</summary>
    public static readonly IReadOnlySet<string> IgnoredResources = new HashSet<string> { "events", "events.events.k8s.io" };

    /// <summary>What the collector watches from the start: every resource the catalog holds but the ignored ones.</summary>
    public static IReadOnlyList<string> InitialResources(IResourceCatalog catalog) =>
        catalog.Stored.Select(r => r.StoreName).Where(r => !IgnoredResources.Contains(r)).Distinct().ToList();

    // Dependents whose owners we are asking the store about: the owner uids still unanswered.
    private readonly Dictionary<ResourceKey, (string Uid, HashSet<string> Owners)> _verifying = new();

    // The dependent's resourceVersion at the time of the decision: the delete carries it as a precondition, so a
    // dependent that changed meanwhile (an Orphan delete strips its ownerReferences, and that change may reach
    // us after the owner's DELETED) is not deleted on a stale view.
    private sealed record VerifyOwner(ResourceKey Dependent, string DependentUid, string DependentResourceVersion, string OwnerUid);

    private readonly IResourceCatalog _catalog;

    // The initial resources, then every resource watched since because ForeignDeletions saw a change in it.
    private readonly List<string> _resources;

    public GarbageCollector(IActorRef store, TimeSpan resync, IResourceCatalog catalog, IReadOnlyList<string> initial)
        : base(store, initial, resync)
    {
        _catalog = catalog;
        _resources = initial.ToList();
        Cache.IndexOwners();
        Receive<ForeignDeletions.ResourceSeen>(seen => WatchToo(seen.Resource));
        Receive<ForeignDeletions.OwnerDeleted>(deleted =>
        {
            if (!Synced) return;
            foreach (var (key, _) in Cache.DependentsOf(deleted.Uid)) Enqueue(key);
        });
    }

    protected override void PreStart()
    {
        base.PreStart();
        Context.ActorOf(ForeignDeletions.Props(Store, _resources.Concat(IgnoredResources)), "foreign-deletions");
    }

    /// <summary><paramref name="catalog"/> resolves the kinds ownerReferences name (custom resources included).</summary>
    public static Props Props(IActorRef store, TimeSpan resync, IResourceCatalog catalog) =>
        Akka.Actor.Props.Create(() => new GarbageCollector(store, resync, catalog, InitialResources(catalog)));

    private void WatchToo(string resource)
    {
        if (IsWatched(resource) || IgnoredResources.Contains(resource)) return;
        Log.Info("watching {0}: a resource defined since the collector started", resource);
        _resources.Add(resource);
        Watch(resource); // once listed, every key is reconciled, the object seen included
    }

    // Level-triggered as well: a resource the catalog came to hold without a change in it yet (a custom resource
    // whose definition the catalog read after the collector started, as at a master's start) is watched at a resync.
    protected override void OnResync()
    {
        foreach (var resource in InitialResources(_catalog)) WatchToo(resource);
    }

    protected override IEnumerable<ResourceKey> AllKeys() => _resources.SelectMany(Cache.Keys);

    // From the cache's owner index: the dependents of every watched resource, without a scan of the whole cache.
    private IEnumerable<(string Resource, IKubernetesObject<V1ObjectMeta> Object)> DependentsOf(IKubernetesObject<V1ObjectMeta> owner) =>
        owner.Metadata.Uid is { } uid ? Cache.DependentsOf(uid).Select(d => (d.Key.Resource, d.Object)) : [];

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (current is not null) Enqueue(ObjectCache.KeyOf(resource, current));
        if (current is null && old?.Metadata.Uid is { } uid)
            foreach (var (key, _) in Cache.DependentsOf(uid)) Enqueue(key);

        // A dependent came or went: owners waiting for their dependents may now be done.
        foreach (var reference in (current ?? old)!.Metadata.OwnerReferences ?? [])
            if (OwnerInCache(reference, (current ?? old)!.Metadata.NamespaceProperty) is { } owner && owner.Object.Metadata.DeletionTimestamp is not null)
                Enqueue(ObjectCache.KeyOf(owner.Resource, owner.Object));
    }

    protected override void Reconcile(ResourceKey key)
    {
        var obj = Cache.Get(key);
        if (obj is null) return;
        var finalizers = obj.Metadata.Finalizers ?? [];
        if (obj.Metadata.DeletionTimestamp is not null)
        {
            if (finalizers.Contains(OrphanFinalizer)) OrphanDependents(key, obj);
            else if (finalizers.Contains(ForegroundFinalizer)) DeleteDependentsFirst(key, obj);
            return;
        }
        if (obj.Metadata.OwnerReferences is not { Count: > 0 } references || _verifying.ContainsKey(key)) return;

        var dangling = new List<V1OwnerReference>();
        foreach (var reference in references)
        {
            if (_catalog.FindByKind(reference.ApiVersion, reference.Kind) is null) return; // unknown kind: hands off
            var owner = OwnerInCache(reference, key.Namespace);
            if (owner is null) dangling.Add(reference);
            else return; // a live owner (one being deleted in the foreground deletes us itself)
        }

        // Every owner is missing from the cache: ask the store before deleting anything.
        _verifying[key] = (obj.Metadata.Uid, dangling.Select(r => r.Uid).ToHashSet());
        foreach (var reference in dangling)
            Send(new GetObject(OwnerKey(reference, key.Namespace)),
                new VerifyOwner(key, obj.Metadata.Uid, obj.Metadata.ResourceVersion, reference.Uid));
    }

    private void DeleteDependentsFirst(ResourceKey key, IKubernetesObject<V1ObjectMeta> owner)
    {
        var blocking = 0;
        foreach (var (resource, dependent) in DependentsOf(owner))
        {
            var reference = dependent.Metadata.OwnerReferences!.First(r => r.Uid == owner.Metadata.Uid);
            if (reference.BlockOwnerDeletion == true) blocking++;
            if (dependent.Metadata.DeletionTimestamp is not null) continue;
            SendAndForget(new DeleteObject(ObjectCache.KeyOf(resource, dependent), PreconditionUid: dependent.Metadata.Uid,
                PropagationPolicy: reference.BlockOwnerDeletion == true ? "Foreground" : "Background"));
        }
        if (blocking == 0) RemoveFinalizer(key, owner, ForegroundFinalizer);
    }

    private void OrphanDependents(ResourceKey key, IKubernetesObject<V1ObjectMeta> owner)
    {
        var any = false;
        foreach (var (resource, dependent) in DependentsOf(owner))
        {
            any = true;
            var released = KubeObjects.CloneObject(dependent);
            released.Metadata.OwnerReferences = released.Metadata.OwnerReferences!.Where(r => r.Uid != owner.Metadata.Uid).ToList();
            SendAndForget(new UpdateObject(resource, released));
        }
        if (!any) RemoveFinalizer(key, owner, OrphanFinalizer);
    }

    private void RemoveFinalizer(ResourceKey key, IKubernetesObject<V1ObjectMeta> obj, string finalizer)
    {
        var updated = KubeObjects.CloneObject(obj);
        updated.Metadata.Finalizers = updated.Metadata.Finalizers!.Where(f => f != finalizer).ToList();
        Send(new UpdateObject(key.Resource, updated), key);
    }

    private (string Resource, IKubernetesObject<V1ObjectMeta> Object)? OwnerInCache(V1OwnerReference reference, string? @namespace)
    {
        var ownerKey = OwnerKey(reference, @namespace);
        return Cache.Get(ownerKey) is { } owner && owner.Metadata.Uid == reference.Uid ? (ownerKey.Resource, owner) : null;
    }

    private ResourceKey OwnerKey(V1OwnerReference reference, string? @namespace)
    {
        var resource = _catalog.FindByKind(reference.ApiVersion, reference.Kind)!;
        return ResourceKey.Of(resource, @namespace, reference.Name);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        switch (reply.Tag)
        {
            case VerifyOwner v:
                if (!_verifying.TryGetValue(v.Dependent, out var pending) || pending.Uid != v.DependentUid) return;
                var ownerLives = reply.Stored is { } s && s.Object.Metadata.Uid == v.OwnerUid;
                if (ownerLives || (reply.Failed is { } f && f.Error.Code != 404))
                {
                    _verifying.Remove(v.Dependent); // alive, or we cannot tell: leave it; a resync asks again
                    return;
                }
                pending.Owners.Remove(v.OwnerUid);
                if (pending.Owners.Count > 0) return;
                _verifying.Remove(v.Dependent);
                if (Cache.Get(v.Dependent) is not { } current || current.Metadata.ResourceVersion != v.DependentResourceVersion)
                {
                    Enqueue(v.Dependent); // changed while we asked: decide again on what it is now
                    return;
                }
                Log.Info("deleting {0}: all its owners are gone", v.Dependent);
                SendAndForget(new DeleteObject(v.Dependent, PreconditionUid: v.DependentUid,
                    PreconditionResourceVersion: v.DependentResourceVersion));
                break;
            case ResourceKey key when !reply.Succeeded:
                RequeueAfter(key, TimeSpan.FromSeconds(1)); // finalizer removal conflicted
                break;
            default:
                base.OnStoreReplied(reply);
                break;
        }
    }
}
