using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Akka.Actor;
using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store;

/// <summary>
/// The ObjectStore's objects by key and its kept lists, for gets and lists outside the actor (the API's, without an Ask
/// round trip). The store
/// changes it while it applies a durable batch, before it answers any write of that batch, so a get after an
/// acknowledged write sees it (read-your-writes); a get sees each object as of its latest durable write, as a get
/// from the store's own state does. Closed (reads go to the actor) until the store serves, and once it cannot.
/// </summary>
/// <remarks>Only the ObjectStore has one: a master's replica (<see cref="StoreReplica"/>) answers a consistent read
/// only after the leader's progress, which a map cannot wait for.</remarks>
internal sealed class StoreReadView(IResourceCatalog catalog)
{
    private static readonly ConditionalWeakTable<IActorRef, StoreReadView> Views = new();

    private readonly ConcurrentDictionary<(string Resource, string? Namespace, string Name), IKubernetesObject<V1ObjectMeta>> _objects =
        new();

    /// <summary>The store's kept lists (<see cref="StoreState.List"/>), each in an entry of its own: a list made again after
    /// a change is a new entry even when it holds the same objects, so a reader that finds the same entry before and after
    /// reading the resourceVersion knows that no change of that list came in between.</summary>
    private readonly ConcurrentDictionary<(string Resource, string? Namespace), KeptList> _lists = new();

    private sealed record KeptList(IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Items);

    private long _resourceVersion;

    private volatile bool _open;

    /// <summary>The open view of <paramref name="store"/> (an ObjectStore's reference), or null: ask the actor.</summary>
    public static StoreReadView? Of(IActorRef store) => Views.TryGetValue(store, out var view) && view._open ? view : null;

    /// <summary>The stored object, or null when it is not there or its resource is not served: the actor answers those
    /// (with its own 404).</summary>
    public IKubernetesObject<V1ObjectMeta>? Get(ResourceKey key) =>
        _open && _objects.TryGetValue((key.Resource, key.Namespace, key.Name), out var obj) && catalog.Find(key.Resource) is not null
            ? obj
            : null;

    /// <summary>A list as the store would answer it now (<see cref="ObjectsListed"/>: its objects and the store's
    /// resourceVersion), or null: the store has not kept this list since its last change (or the resource is not served)
    /// — ask the actor, which keeps it here. The state drops a changed list before it sets the version of that change, so
    /// the version read between two finds of the same kept list is one at which the list held exactly those objects; a
    /// version is set before any write it covers is answered (read-your-writes, as for a get).</summary>
    public ObjectsListed? List(string resource, string? ns)
    {
        if (!_open || !_lists.TryGetValue((resource, ns), out var kept) || catalog.Find(resource) is null) return null;
        var resourceVersion = Volatile.Read(ref _resourceVersion);
        return _lists.TryGetValue((resource, ns), out var again) && ReferenceEquals(kept, again) && _open
            ? new ObjectsListed(kept.Items, resourceVersion)
            : null;
    }

    internal void Register(IActorRef store) => Views.AddOrUpdate(store, this);

    internal void Unregister(IActorRef store)
    {
        _open = false;
        Views.Remove(store);
    }

    internal void Open() => _open = true;

    internal void Close() => _open = false;

    internal void Put(string resource, IKubernetesObject<V1ObjectMeta> obj) =>
        _objects[(resource, obj.Metadata.NamespaceProperty, obj.Metadata.Name)] = obj;

    internal void Remove(string resource, string? ns, string name) => _objects.TryRemove((resource, ns, name), out _);

    internal void PutList(string resource, string? ns, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items) =>
        _lists[(resource, ns)] = new KeptList(items);

    /// <summary>An object of <paramref name="resource"/> in <paramref name="ns"/> changed: its lists are no longer kept.</summary>
    internal void ListChanged(string resource, string? ns)
    {
        _lists.TryRemove((resource, null), out _);
        if (ns is not null) _lists.TryRemove((resource, ns), out _);
    }

    internal void SetResourceVersion(long resourceVersion) => Volatile.Write(ref _resourceVersion, resourceVersion);

    internal void Clear()
    {
        _lists.Clear();
        _objects.Clear();
    }
}
