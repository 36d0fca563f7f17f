using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Rest;

/// <summary>One list of a resource at one resourceVersion, sorted by <see cref="ListQuery.SortKey"/> (the store lists in that
/// order): the pages of a paged list are all cut from it. Its objects are the store's, which are never changed in place.</summary>
internal sealed class ListSnapshot(IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items, long resourceVersion, bool fromStore = false)
{
    private sealed record Keyed(IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Items, string[] Keys);

    private Keyed? _keyed;

    public long ResourceVersion { get; } = resourceVersion;

    /// <summary>Only the items from a continue token's key on are those of the list at <see cref="ResourceVersion"/>
    /// (a later list that nothing from that key on changed since): not kept for other tokens.</summary>
    public bool Partial { get; init; }

    /// <summary>The items as the store listed them, for a whole unfiltered list: no key is made.</summary>
    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Listed => items;

    /// <summary>The items in key order.</summary>
    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Items => WithKeys().Items;

    /// <summary>The items are the store's read-only list as it answered (not a copy, a conversion or a page of one).</summary>
    public bool FromStore { get; } = fromStore;

    public static ListSnapshot Of(ObjectsListed listed, bool fromStore = false) => new(listed.Items, listed.ResourceVersion, fromStore);

    public string Key(int index) => WithKeys().Keys[index];

    /// <summary>The index of the first item whose key is <paramref name="start"/> or after it.</summary>
    public int IndexFrom(string start)
    {
        var keys = WithKeys().Keys;
        int low = 0, high = keys.Length;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (string.CompareOrdinal(keys[mid], start) < 0) low = mid + 1;
            else high = mid;
        }
        return low;
    }

    /// <summary>The items with their keys, made when a page, a selector or a continue token first needs them; items out
    /// of key order (none from the store) are sorted then.</summary>
    private Keyed WithKeys()
    {
        if (Volatile.Read(ref _keyed) is { } keyed) return keyed;
        var list = items;
        var keys = new string[list.Count];
        var inOrder = true;
        for (var i = 0; i < list.Count; i++)
        {
            keys[i] = ListQuery.SortKey(list[i]);
            if (i > 0 && string.CompareOrdinal(keys[i - 1], keys[i]) > 0) inOrder = false;
        }
        if (!inOrder)
        {
            var order = Enumerable.Range(0, list.Count).OrderBy(i => keys[i], StringComparer.Ordinal).ToArray();
            list = order.Select(i => list[i]).ToList();
            keys = order.Select(i => keys[i]).ToArray();
        }
        Interlocked.CompareExchange(ref _keyed, new Keyed(list, keys), null);
        return _keyed!;
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
