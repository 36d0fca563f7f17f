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
/// <remarks>A list is answered with a read-only array kept until the next write to its resource and namespace: lists
/// between writes cost nothing here and are the same instance, which the API's encoded list bodies are kept by. Each
/// namespace's objects are also indexed on their own, so a namespace's list does not walk the whole resource. The store's
/// gets and lists from outside the actor read <paramref name="view"/>, changed here with the state: an object, a kept list
/// dropped, then the resourceVersion, in that order.</remarks>
internal sealed class StoreState(StoreReadView? view = null) : IStateView
{
    private sealed record Entry(IKubernetesObject<V1ObjectMeta> Object, int Bytes);

    private readonly Dictionary<string, SortedDictionary<string, Entry>> _byResource = new();

    /// <summary>The namespaced objects again, by resource and namespace (keys as in <see cref="_byResource"/>).</summary>
    private readonly Dictionary<(string Resource, string Namespace), SortedDictionary<string, Entry>> _byNamespace = new();

    /// <summary>Lists made since the last write to their resource (and namespace); a null namespace is the whole resource.</summary>
    private readonly Dictionary<(string Resource, string? Namespace), IReadOnlyList<IKubernetesObject<V1ObjectMeta>>> _lists = new();

    /// <summary>The last resourceVersion; the view's follows it, set after the changes it covers (see <see cref="StoreReadView.List"/>).</summary>
    public long ResourceVersion
    {
        get => _resourceVersion;
        private set
        {
            _resourceVersion = value;
            view?.SetResourceVersion(value);
        }
    }

    private long _resourceVersion;

    /// <summary>The JSON size of every object together.</summary>
    public long Bytes { get; private set; }

    /// <summary>How many objects there are.</summary>
    public int Count { get; private set; }

    /// <summary>An object's key within its resource: "namespace/name", or the name of a cluster-scoped one.</summary>
    public static string Path(string? ns, string name) => ns is null ? name : $"{ns}/{name}";

    /// <summary>The objects of a resource by <see cref="Path"/>, in order, of one namespace or (null) all.</summary>
    public IEnumerable<KeyValuePair<string, IKubernetesObject<V1ObjectMeta>>> Entries(string resource, string? ns) =>
        Ordered(resource, ns) is { } bucket ? bucket.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Object)) : [];

    /// <summary>The resources that hold objects.</summary>
    public IEnumerable<string> Resources => _byResource.Keys;

    private SortedDictionary<string, Entry>? Ordered(string resource, string? ns) =>
        ns is null ? _byResource.GetValueOrDefault(resource) : _byNamespace.GetValueOrDefault((resource, ns));

    public IKubernetesObject<V1ObjectMeta>? Get(ResourceKey key) => Get(key.Resource, key.Namespace, key.Name);

    public IKubernetesObject<V1ObjectMeta>? Get(string resource, string? ns, string name) =>
        _byResource.TryGetValue(resource, out var bucket) ? bucket.GetValueOrDefault(Path(ns, name))?.Object : null;

    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string resource, string? ns = null)
    {
        if (_lists.TryGetValue((resource, ns), out var kept)) return kept;
        if (Ordered(resource, ns) is not { } bucket) return [];
        var items = new IKubernetesObject<V1ObjectMeta>[bucket.Count];
        var i = 0;
        foreach (var entry in bucket.Values) items[i++] = entry.Object;
        var list = Array.AsReadOnly(items);
        _lists[(resource, ns)] = list;
        view?.PutList(resource, ns, list);
        return list;
    }

    public IEnumerable<(string Resource, IKubernetesObject<V1ObjectMeta> Object)> All() =>
        _byResource.SelectMany(kv => kv.Value.Values.Select(e => (kv.Key, e.Object)));

    public V1Namespace? Namespace(string ns) => Get("namespaces", null, ns) as V1Namespace;

    /// <summary>Stores the object (already carrying <paramref name="resourceVersion"/>, <paramref name="bytes"/> of
    /// JSON); returns the previous one.</summary>
    public IKubernetesObject<V1ObjectMeta>? Put(string resource, IKubernetesObject<V1ObjectMeta> obj, long resourceVersion, int bytes)
    {
        var ns = obj.Metadata.NamespaceProperty;
        if (!_byResource.TryGetValue(resource, out var bucket))
            _byResource[resource] = bucket = new SortedDictionary<string, Entry>(StringComparer.Ordinal);
        var path = Path(ns, obj.Metadata.Name);
        bucket.TryGetValue(path, out var previous);
        var entry = new Entry(obj, bytes);
        bucket[path] = entry;
        if (ns is not null)
        {
            if (!_byNamespace.TryGetValue((resource, ns), out var inNamespace))
                _byNamespace[(resource, ns)] = inNamespace = new SortedDictionary<string, Entry>(StringComparer.Ordinal);
            inNamespace[path] = entry;
        }
        Changed(resource, ns);
        view?.Put(resource, obj);
        Bytes += bytes - (previous?.Bytes ?? 0);
        if (previous is null) Count++;
        // after the list is dropped from the view (Changed): a list read there with this version has the object
        ResourceVersion = Math.Max(ResourceVersion, resourceVersion);
        return previous?.Object;
    }

    /// <summary>Removes the object; returns it and its JSON size, or null when it was not there.</summary>
    public (IKubernetesObject<V1ObjectMeta> Object, int Bytes)? Remove(string resource, string? ns, string name, long resourceVersion)
    {
        var path = Path(ns, name);
        if (!_byResource.TryGetValue(resource, out var bucket) || !bucket.Remove(path, out var removed))
        {
            ResourceVersion = Math.Max(ResourceVersion, resourceVersion);
            return null;
        }
        if (ns is not null && _byNamespace.TryGetValue((resource, ns), out var inNamespace) && inNamespace.Remove(path) &&
            inNamespace.Count == 0)
            _byNamespace.Remove((resource, ns));
        Changed(resource, ns);
        view?.Remove(resource, ns, name);
        Bytes -= removed.Bytes;
        Count--;
        // after the list is dropped from the view: a list read there with this version is without the object
        ResourceVersion = Math.Max(ResourceVersion, resourceVersion);
        return (removed.Object, removed.Bytes);
    }

    private void Changed(string resource, string? ns)
    {
        _lists.Remove((resource, null));
        if (ns is not null) _lists.Remove((resource, ns));
        view?.ListChanged(resource, ns);
    }

    public void Clear()
    {
        _byResource.Clear();
        _byNamespace.Clear();
        _lists.Clear();
        view?.Clear();
        ResourceVersion = 0;
        Bytes = 0;
        Count = 0;
    }

    /// <summary>Moves the resourceVersion forward (records that change no object, such as journal probes, take one).</summary>
    public void AdvanceTo(long rv) => ResourceVersion = Math.Max(ResourceVersion, rv);

    public void SetResourceVersion(long rv) => ResourceVersion = rv;
}
