using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Akka.Actor;
using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store;

/// <summary>
/// The ObjectStore's objects by key, for gets outside the actor (the API's, without an Ask round trip). The store
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

    private volatile bool _open;

    /// <summary>The open view of <paramref name="store"/> (an ObjectStore's reference), or null: ask the actor.</summary>
    public static StoreReadView? Of(IActorRef store) => Views.TryGetValue(store, out var view) && view._open ? view : null;

    /// <summary>The stored object, or null when it is not there or its resource is not served: the actor answers those
    /// (with its own 404).</summary>
    public IKubernetesObject<V1ObjectMeta>? Get(ResourceKey key) =>
        _open && _objects.TryGetValue((key.Resource, key.Namespace, key.Name), out var obj) && catalog.Find(key.Resource) is not null
            ? obj
            : null;

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

    internal void Clear() => _objects.Clear();
}
