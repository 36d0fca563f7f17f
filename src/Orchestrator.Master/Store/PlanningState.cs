using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store;

/// <summary>
/// What the ObjectStore plans writes against: its stored state with the writes on their way to the journal laid over
/// it, so a write that arrives while others are being stored is judged as if they had been stored already (its
/// conflicts, its resourceVersion, what admission sees). Reads and watches never see this layer: a write reaches
/// <see cref="StoreState"/> only once it is durable. A plain class, changed only by the store.
/// </summary>
internal sealed class PlanningState(StoreState stored) : IStateView
{
    /// <summary>A planned object, or (null) a planned removal, stamped with its resourceVersion.</summary>
    private sealed record Pending(IKubernetesObject<V1ObjectMeta>? Object, long ResourceVersion);

    private readonly Dictionary<string, SortedDictionary<string, Pending>> _pending = new();
    private long _lastStamped;

    /// <summary>The resourceVersion of the last write planned (stored or not): the next takes the one after.</summary>
    public long ResourceVersion => Math.Max(stored.ResourceVersion, _lastStamped);

    /// <summary>A planned write, stamped with <paramref name="resourceVersion"/>, not yet durable.</summary>
    public void Planned(string resource, IKubernetesObject<V1ObjectMeta> obj, bool removed, long resourceVersion)
    {
        if (!_pending.TryGetValue(resource, out var bucket))
            _pending[resource] = bucket = new SortedDictionary<string, Pending>(StringComparer.Ordinal);
        bucket[StoreState.Path(obj.Metadata.NamespaceProperty, obj.Metadata.Name)] = new Pending(removed ? null : obj, resourceVersion);
        _lastStamped = Math.Max(_lastStamped, resourceVersion);
    }

    /// <summary>The write of <paramref name="resourceVersion"/> is in the stored state now; a later planned write of
    /// the same object stays laid over it.</summary>
    public void Stored(string resource, string? ns, string name, long resourceVersion)
    {
        if (!_pending.TryGetValue(resource, out var bucket)) return;
        var path = StoreState.Path(ns, name);
        if (bucket.TryGetValue(path, out var pending) && pending.ResourceVersion == resourceVersion) bucket.Remove(path);
        if (bucket.Count == 0) _pending.Remove(resource);
    }

    /// <summary>The planned writes will not be stored (the journal failed): plan against the stored state again.</summary>
    public void Clear()
    {
        _pending.Clear();
        _lastStamped = 0;
    }

    public IKubernetesObject<V1ObjectMeta>? Get(ResourceKey key) => Get(key.Resource, key.Namespace, key.Name);

    public IKubernetesObject<V1ObjectMeta>? Get(string resource, string? ns, string name) =>
        _pending.TryGetValue(resource, out var bucket) && bucket.TryGetValue(StoreState.Path(ns, name), out var pending)
            ? pending.Object
            : stored.Get(resource, ns, name);

    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string resource, string? ns = null)
    {
        if (!_pending.TryGetValue(resource, out var bucket)) return stored.List(resource, ns);
        var merged = new SortedDictionary<string, IKubernetesObject<V1ObjectMeta>>(StringComparer.Ordinal);
        foreach (var (path, obj) in stored.Entries(resource, ns)) merged[path] = obj;
        var prefix = ns + "/";
        foreach (var (path, pending) in bucket)
        {
            if (ns is not null && !path.StartsWith(prefix, StringComparison.Ordinal)) continue;
            if (pending.Object is null) merged.Remove(path);
            else merged[path] = pending.Object;
        }
        return merged.Values.ToList();
    }

    public IEnumerable<(string Resource, IKubernetesObject<V1ObjectMeta> Object)> All() =>
        _pending.Count == 0
            ? stored.All()
            : stored.Resources.Union(_pending.Keys).ToList().SelectMany(resource => List(resource).Select(o => (resource, o)));

    public V1Namespace? Namespace(string ns) => Get("namespaces", null, ns) as V1Namespace;
}
