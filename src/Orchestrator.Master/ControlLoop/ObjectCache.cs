using k8s;
using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.ControlLoop;

/// <summary>
/// A controller's local copy of the resources it watches, fed only by its reflectors (never by its own write
/// replies, so it moves forward in the store's order). Objects are the store's shared instances: read-only.
/// </summary>
internal sealed class ObjectCache
{
    private readonly Dictionary<string, Dictionary<ResourceKey, Entry>> _resources = new();
    private readonly Dictionary<string, Index> _indexes = new();
    private OwnerIndex? _owners;

    /// <summary>Every cached object, of every resource, by the uids its ownerReferences name (an object with several
    /// owners is under each): the garbage collector's question "what does this uid own" costs its answer, not a scan
    /// of the whole cache.</summary>
    private sealed class OwnerIndex
    {
        public Dictionary<string, HashSet<ResourceKey>> By { get; } = new(StringComparer.Ordinal);

        public void Add(ResourceKey key, IKubernetesObject<V1ObjectMeta> obj)
        {
            foreach (var reference in obj.Metadata.OwnerReferences ?? [])
            {
                if (reference?.Uid is not { } uid) continue;
                if (!By.TryGetValue(uid, out var set)) By[uid] = set = new();
                set.Add(key);
            }
        }

        public void Remove(ResourceKey key, IKubernetesObject<V1ObjectMeta> obj)
        {
            foreach (var reference in obj.Metadata.OwnerReferences ?? [])
            {
                if (reference?.Uid is not { } uid || !By.TryGetValue(uid, out var set)) continue;
                set.Remove(key);
                if (set.Count == 0) By.Remove(uid);
            }
        }
    }

    /// <summary>One index per resource, as client-go's Indexer (e.g. pods by spec.nodeName): the objects whose
    /// <see cref="Of"/> is a value, kept with every change so a lookup costs its answer, not the resource's size.</summary>
    private sealed class Index(Func<IKubernetesObject<V1ObjectMeta>, string?> of)
    {
        public Func<IKubernetesObject<V1ObjectMeta>, string?> Of { get; } = of;
        public Dictionary<string, Dictionary<ResourceKey, IKubernetesObject<V1ObjectMeta>>> By { get; } = new(StringComparer.Ordinal);

        public void Add(ResourceKey key, IKubernetesObject<V1ObjectMeta> obj)
        {
            if (Of(obj) is not { } value) return;
            if (!By.TryGetValue(value, out var set)) By[value] = set = new();
            set[key] = obj;
        }

        public void Remove(ResourceKey key, IKubernetesObject<V1ObjectMeta> obj)
        {
            if (Of(obj) is not { } value || !By.TryGetValue(value, out var set)) return;
            set.Remove(key);
            if (set.Count == 0) By.Remove(value);
        }
    }

    // a struct in the maps: every controller's cache makes one per change it applies
    private readonly record struct Entry(IKubernetesObject<V1ObjectMeta> Object, long Version);

    public static ResourceKey KeyOf(string resource, IKubernetesObject<V1ObjectMeta> obj) =>
        new(resource, obj.Metadata.NamespaceProperty, obj.Metadata.Name);

    /// <summary>Replaces a resource's contents (initial list or relist).</summary>
    public void Replace(string resource, IEnumerable<IKubernetesObject<V1ObjectMeta>> items, long version)
    {
        var map = new Dictionary<ResourceKey, Entry>(KeyParts.Instance);
        foreach (var item in items) map[KeyOf(resource, item)] = new Entry(item, Math.Max(version, VersionOf(item)));
        if (_owners is not null)
        {
            if (_resources.TryGetValue(resource, out var old))
                foreach (var (key, entry) in old) _owners.Remove(key, entry.Object);
            foreach (var (key, entry) in map) _owners.Add(key, entry.Object);
        }
        _resources[resource] = map;
        if (_indexes.TryGetValue(resource, out var index)) Rebuild(index, map);
    }

    /// <summary>Indexes every cached object, of every resource, by the owner uids of its ownerReferences, for
    /// <see cref="DependentsOf"/>.</summary>
    public void IndexOwners()
    {
        _owners = new OwnerIndex();
        foreach (var map in _resources.Values)
            foreach (var (key, entry) in map) _owners.Add(key, entry.Object);
    }

    /// <summary>The cached objects (any resource) with an ownerReference to <paramref name="ownerUid"/>.</summary>
    public IEnumerable<(ResourceKey Key, IKubernetesObject<V1ObjectMeta> Object)> DependentsOf(string ownerUid)
    {
        if (_owners is null) throw new InvalidOperationException("owners are not indexed");
        if (!_owners.By.TryGetValue(ownerUid, out var keys)) return [];
        // a copy: callers enqueue and send while they iterate, and the set changes with the next change applied
        return keys.Select(k => (k, Get(k)!)).ToList();
    }

    /// <summary>Indexes a resource's objects by a value of theirs (null: not indexed), for <see cref="ListBy{T}"/>.</summary>
    public void IndexBy(string resource, Func<IKubernetesObject<V1ObjectMeta>, string?> of)
    {
        var index = _indexes[resource] = new Index(of);
        Rebuild(index, Map(resource));
    }

    /// <summary>The cached objects of an indexed resource whose indexed value is <paramref name="value"/>.</summary>
    public IEnumerable<T> ListBy<T>(string resource, string value)
    {
        if (!_indexes.TryGetValue(resource, out var index))
            throw new InvalidOperationException($"{resource} is not indexed");
        return index.By.TryGetValue(value, out var set) ? set.Values.OfType<T>() : [];
    }

    private static void Rebuild(Index index, Dictionary<ResourceKey, Entry> map)
    {
        index.By.Clear();
        foreach (var (key, entry) in map) index.Add(key, entry.Object);
    }

    /// <summary>Applies one change and returns the object it replaced (null when none). Changes older than what
    /// the cache holds for the key are ignored (returns the cached object, and <paramref name="applied"/> false).</summary>
    public IKubernetesObject<V1ObjectMeta>? Apply(ObjectChanged change, out bool applied)
    {
        var map = Map(change.Resource);
        // The key the map holds for a cached object, found by its parts: only a new object takes a new key (each
        // controller's cache applies every change of the resources it watches, several per pod).
        var had = map.GetAlternateLookup<(string, string?, string)>()
            .TryGetValue((change.Resource, change.Object.Metadata.NamespaceProperty, change.Object.Metadata.Name), out var cachedKey, out var entry);
        var key = had ? cachedKey! : KeyOf(change.Resource, change.Object);
        var old = had ? entry.Object : null;
        var version = change.ResourceVersion > 0 ? change.ResourceVersion : VersionOf(change.Object);
        if (had && version > 0 && version < entry.Version)
        {
            applied = false;
            return old;
        }
        if (change.Type == "DELETED") map.Remove(key);
        else map[key] = new Entry(change.Object, version);
        if (_indexes.TryGetValue(change.Resource, out var index))
        {
            if (old is not null) index.Remove(key, old);
            if (change.Type != "DELETED") index.Add(key, change.Object);
        }
        if (_owners is not null)
        {
            if (old is not null) _owners.Remove(key, old);
            if (change.Type != "DELETED") _owners.Add(key, change.Object);
        }
        applied = true;
        return old;
    }

    public IKubernetesObject<V1ObjectMeta>? Get(ResourceKey key) =>
        _resources.TryGetValue(key.Resource, out var map) && map.TryGetValue(key, out var e) ? e.Object : null;

    public T? Get<T>(string resource, string? @namespace, string name) where T : class =>
        Get(new ResourceKey(resource, @namespace, name)) as T;

    /// <summary>All cached objects of a resource, in one namespace or (null) all.</summary>
    /// <remarks>One iterator, and none for an empty resource: controllers list a namespace's services, budgets or quotas
    /// on every pod change (a Where/Select/OfType chain and its delegates were ≈ 1 KB per pod change each).</remarks>
    public IEnumerable<T> List<T>(string resource, string? @namespace = null) =>
        _resources.TryGetValue(resource, out var map) && map.Count > 0 ? Listed<T>(map, @namespace) : [];

    private static IEnumerable<T> Listed<T>(Dictionary<ResourceKey, Entry> map, string? @namespace)
    {
        foreach (var (key, entry) in map)
            if ((@namespace is null || key.Namespace == @namespace) && entry.Object is T item) yield return item;
    }

    public IEnumerable<ResourceKey> Keys(string resource) =>
        _resources.TryGetValue(resource, out var map) ? map.Keys.ToList() : [];

    public static long VersionOf(IKubernetesObject<V1ObjectMeta> obj) =>
        long.TryParse(obj.Metadata?.ResourceVersion, out var v) ? v : 0;

    private Dictionary<ResourceKey, Entry> Map(string resource)
    {
        if (!_resources.TryGetValue(resource, out var map)) _resources[resource] = map = new(KeyParts.Instance);
        return map;
    }

    /// <summary>A key's equality as the record's, and a key found by its parts without making one.</summary>
    private sealed class KeyParts : IEqualityComparer<ResourceKey>, IAlternateEqualityComparer<(string Resource, string? Namespace, string Name), ResourceKey>
    {
        public static KeyParts Instance { get; } = new();

        public bool Equals(ResourceKey? x, ResourceKey? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && Equals((x.Resource, x.Namespace, x.Name), y));

        public int GetHashCode(ResourceKey key) => GetHashCode((key.Resource, key.Namespace, key.Name));

        public bool Equals((string Resource, string? Namespace, string Name) parts, ResourceKey key) =>
            string.Equals(parts.Resource, key.Resource, StringComparison.Ordinal) &&
            string.Equals(parts.Namespace, key.Namespace, StringComparison.Ordinal) &&
            string.Equals(parts.Name, key.Name, StringComparison.Ordinal);

        public int GetHashCode((string Resource, string? Namespace, string Name) parts) =>
            HashCode.Combine(parts.Resource, parts.Namespace, parts.Name);

        public ResourceKey Create((string Resource, string? Namespace, string Name) parts) => new(parts.Resource, parts.Namespace, parts.Name);
    }
}
