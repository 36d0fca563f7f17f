using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store;

/// <summary>
/// The ObjectStore's in-memory state: every object by resource and namespace/name (ordered like etcd keys, so
/// lists come out sorted), and the last resourceVersion. A plain class, changed only by applying persisted
/// records, so recovery and live writes produce the same state.
/// </summary>
internal sealed class StoreState
{
    private readonly Dictionary<string, SortedDictionary<string, IKubernetesObject<V1ObjectMeta>>> _byResource = new();

    public long ResourceVersion { get; private set; }

    private static string Path(string? ns, string name) => ns is null ? name : $"{ns}/{name}";

    private SortedDictionary<string, IKubernetesObject<V1ObjectMeta>> Bucket(string resource)
    {
        if (!_byResource.TryGetValue(resource, out var bucket))
            _byResource[resource] = bucket = new SortedDictionary<string, IKubernetesObject<V1ObjectMeta>>(StringComparer.Ordinal);
        return bucket;
    }

    public IKubernetesObject<V1ObjectMeta>? Get(ResourceKey key) => Get(key.Resource, key.Namespace, key.Name);

    public IKubernetesObject<V1ObjectMeta>? Get(string resource, string? ns, string name) =>
        _byResource.TryGetValue(resource, out var bucket) ? bucket.GetValueOrDefault(Path(ns, name)) : null;

    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string resource, string? ns = null)
    {
        if (!_byResource.TryGetValue(resource, out var bucket)) return [];
        if (ns is null) return bucket.Values.ToList();
        var prefix = ns + "/";
        return bucket.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(kv => kv.Value).ToList();
    }

    public IEnumerable<(string Resource, IKubernetesObject<V1ObjectMeta> Object)> All() =>
        _byResource.SelectMany(kv => kv.Value.Values.Select(o => (kv.Key, o)));

    public V1Namespace? Namespace(string ns) => Get("namespaces", null, ns) as V1Namespace;

    /// <summary>Stores the object (already carrying <paramref name="resourceVersion"/>); returns the previous one.</summary>
    public IKubernetesObject<V1ObjectMeta>? Put(string resource, IKubernetesObject<V1ObjectMeta> obj, long resourceVersion)
    {
        var bucket = Bucket(resource);
        var path = Path(obj.Metadata.NamespaceProperty, obj.Metadata.Name);
        bucket.TryGetValue(path, out var previous);
        bucket[path] = obj;
        ResourceVersion = Math.Max(ResourceVersion, resourceVersion);
        return previous;
    }

    /// <summary>Removes the object; returns it, or null when it was not there.</summary>
    public IKubernetesObject<V1ObjectMeta>? Remove(string resource, string? ns, string name, long resourceVersion)
    {
        ResourceVersion = Math.Max(ResourceVersion, resourceVersion);
        return _byResource.TryGetValue(resource, out var bucket) && bucket.Remove(Path(ns, name), out var removed)
            ? removed
            : null;
    }

    public void Clear()
    {
        _byResource.Clear();
        ResourceVersion = 0;
    }

    public void SetResourceVersion(long rv) => ResourceVersion = rv;
}
