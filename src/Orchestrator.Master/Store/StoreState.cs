using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store;

/// <summary>What writes are planned against: objects by resource and namespace/name.</summary>
internal interface IStateView
{
    IKubernetesObject<V1ObjectMeta>? Get(ResourceKey key);

    IKubernetesObject<V1ObjectMeta>? Get(string resource, string? ns, string name);

    /// <summary>Sorted like etcd keys (namespace/name).</summary>
    IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string resource, string? ns = null);

    IEnumerable<(string Resource, IKubernetesObject<V1ObjectMeta> Object)> All();

    V1Namespace? Namespace(string ns);
}

/// <summary>
/// The ObjectStore's in-memory state: every object by resource and namespace/name (ordered like etcd keys, so
/// lists come out sorted) with the size of its JSON, and the last resourceVersion. A plain class, changed only by
/// applying persisted records, so recovery and live writes produce the same state.
/// </summary>
internal sealed class StoreState : IStateView
{
    private sealed record Entry(IKubernetesObject<V1ObjectMeta> Object, int Bytes);

    private readonly Dictionary<string, SortedDictionary<string, Entry>> _byResource = new();

    public long ResourceVersion { get; private set; }

    /// <summary>The JSON size of every object together.</summary>
    public long Bytes { get; private set; }

    /// <summary>An object's key within its resource: "namespace/name", or the name of a cluster-scoped one.</summary>
    public static string Path(string? ns, string name) => ns is null ? name : $"{ns}/{name}";

    /// <summary>The objects of a resource by <see cref="Path"/>, in order, of one namespace or (null) all.</summary>
    public IEnumerable<KeyValuePair<string, IKubernetesObject<V1ObjectMeta>>> Entries(string resource, string? ns)
    {
        if (!_byResource.TryGetValue(resource, out var bucket)) return [];
        var prefix = ns + "/";
        return bucket.Where(kv => ns is null || kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Object));
    }

    /// <summary>The resources that hold objects.</summary>
    public IEnumerable<string> Resources => _byResource.Keys;

    private SortedDictionary<string, Entry> Bucket(string resource)
    {
        if (!_byResource.TryGetValue(resource, out var bucket))
            _byResource[resource] = bucket = new SortedDictionary<string, Entry>(StringComparer.Ordinal);
        return bucket;
    }

    public IKubernetesObject<V1ObjectMeta>? Get(ResourceKey key) => Get(key.Resource, key.Namespace, key.Name);

    public IKubernetesObject<V1ObjectMeta>? Get(string resource, string? ns, string name) =>
        _byResource.TryGetValue(resource, out var bucket) ? bucket.GetValueOrDefault(Path(ns, name))?.Object : null;

    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string resource, string? ns = null)
    {
        if (!_byResource.TryGetValue(resource, out var bucket)) return [];
        if (ns is null) return bucket.Values.Select(e => e.Object).ToList();
        var prefix = ns + "/";
        return bucket.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(kv => kv.Value.Object).ToList();
    }

    public IEnumerable<(string Resource, IKubernetesObject<V1ObjectMeta> Object)> All() =>
        _byResource.SelectMany(kv => kv.Value.Values.Select(e => (kv.Key, e.Object)));

    public V1Namespace? Namespace(string ns) => Get("namespaces", null, ns) as V1Namespace;

    /// <summary>Stores the object (already carrying <paramref name="resourceVersion"/>, <paramref name="bytes"/> of
    /// JSON); returns the previous one.</summary>
    public IKubernetesObject<V1ObjectMeta>? Put(string resource, IKubernetesObject<V1ObjectMeta> obj, long resourceVersion, int bytes)
    {
        var bucket = Bucket(resource);
        var path = Path(obj.Metadata.NamespaceProperty, obj.Metadata.Name);
        bucket.TryGetValue(path, out var previous);
        bucket[path] = new Entry(obj, bytes);
        Bytes += bytes - (previous?.Bytes ?? 0);
        ResourceVersion = Math.Max(ResourceVersion, resourceVersion);
        return previous?.Object;
    }

    /// <summary>Removes the object; returns it and its JSON size, or null when it was not there.</summary>
    public (IKubernetesObject<V1ObjectMeta> Object, int Bytes)? Remove(string resource, string? ns, string name, long resourceVersion)
    {
        ResourceVersion = Math.Max(ResourceVersion, resourceVersion);
        if (!_byResource.TryGetValue(resource, out var bucket) || !bucket.Remove(Path(ns, name), out var removed)) return null;
        Bytes -= removed.Bytes;
        return (removed.Object, removed.Bytes);
    }

    public void Clear()
    {
        _byResource.Clear();
        ResourceVersion = 0;
        Bytes = 0;
    }

    /// <summary>Moves the resourceVersion forward (records that change no object, such as journal probes, take one).</summary>
    public void AdvanceTo(long rv) => ResourceVersion = Math.Max(ResourceVersion, rv);

    public void SetResourceVersion(long rv) => ResourceVersion = rv;
}
