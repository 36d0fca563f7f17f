using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Rest;

/// <summary>One list of a resource at one resourceVersion, sorted by <see cref="ListQuery.SortKey"/>: the pages of a
/// paged list are all cut from it. Its objects are the store's, which are never changed in place.</summary>
internal sealed class ListSnapshot
{
    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Items { get; }
    public long ResourceVersion { get; }
    private readonly string[] _keys;

    public ListSnapshot(IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items, long resourceVersion)
    {
        ResourceVersion = resourceVersion;
        var keys = new string[items.Count];
        var sorted = true;
        for (var i = 0; i < items.Count; i++)
        {
            keys[i] = ListQuery.SortKey(items[i]);
            if (i > 0 && string.CompareOrdinal(keys[i - 1], keys[i]) > 0) sorted = false;
        }
        // The store lists in key order already; anything else (a converted list) is sorted here.
        if (!sorted)
        {
            var order = Enumerable.Range(0, items.Count).OrderBy(i => keys[i], StringComparer.Ordinal).ToArray();
            items = order.Select(i => items[i]).ToList();
            keys = order.Select(i => keys[i]).ToArray();
        }
        Items = items;
        _keys = keys;
    }

    public static ListSnapshot Of(ObjectsListed listed) => new(listed.Items, listed.ResourceVersion);

    public string Key(int index) => _keys[index];

    /// <summary>The index of the first item whose key is <paramref name="start"/> or after it.</summary>
    public int IndexFrom(string start)
    {
        int low = 0, high = _keys.Length;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (string.CompareOrdinal(_keys[mid], start) < 0) low = mid + 1;
            else high = mid;
        }
        return low;
    }
}

/// <summary>
/// The lists whose later pages are still to be asked for (a list with <c>limit</c> that answered a continue token),
/// so that every page of one paged list comes from the same resourceVersion, as etcd serves them from its revision
/// history. Kept for <see cref="Lifetime"/> (etcd's default compaction interval) and at most <see cref="Capacity"/> at
/// once, the oldest dropped first; a continue token whose list is gone is answered 410 Expired with a token for an
/// inconsistent remainder, as kube-apiserver answers one whose revision was compacted.
/// </summary>
internal sealed class ListSnapshots(Func<DateTime> now)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    public const int Capacity = 64;

    private sealed record Kept(ListSnapshot Snapshot, DateTime At);

    private readonly Dictionary<(string GroupVersion, string Resource, string? Namespace, long Version), Kept> _kept = new();
    private readonly Lock _lock = new();

    public void Keep(ResourceDescription resource, string? ns, ListSnapshot snapshot)
    {
        var key = (resource.GroupVersion, resource.Resource, ns, snapshot.ResourceVersion);
        lock (_lock)
        {
            Expire();
            if (!_kept.ContainsKey(key) && _kept.Count >= Capacity)
                _kept.Remove(_kept.MinBy(kv => kv.Value.At).Key);
            _kept[key] = new Kept(snapshot, now());
        }
    }

    public ListSnapshot? Find(ResourceDescription resource, string? ns, long resourceVersion)
    {
        lock (_lock)
        {
            Expire();
            return _kept.GetValueOrDefault((resource.GroupVersion, resource.Resource, ns, resourceVersion))?.Snapshot;
        }
    }

    public int Count
    {
        get
        {
            lock (_lock) return _kept.Count;
        }
    }

    private void Expire()
    {
        var oldest = now() - Lifetime;
        foreach (var (key, kept) in _kept)
            if (kept.At < oldest) _kept.Remove(key);
    }
}
