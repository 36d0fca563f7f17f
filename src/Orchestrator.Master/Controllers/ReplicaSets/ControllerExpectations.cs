using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers.ReplicaSets;

/// <summary>
/// Creates and deletes a controller has issued but not yet seen in its change feed, per owner (client-go's
/// ControllerExpectations). While any are outstanding the owner's pod count in the cache is not trusted, so the
/// controller does not create duplicates or delete twice. Entries expire after <see cref="Ttl"/> in case a change
/// was lost (a relist folded it in).
/// </summary>
internal sealed class ControllerExpectations
{
    public static readonly TimeSpan Ttl = TimeSpan.FromMinutes(1);

    private readonly Func<DateTime> _clock;
    private readonly Dictionary<ResourceKey, Entry> _entries = new();

    private sealed class Entry
    {
        public int Adds;
        public readonly HashSet<string> Deletes = new();
        public DateTime SetAt;
    }

    public ControllerExpectations(Func<DateTime>? clock = null) => _clock = clock ?? (() => DateTime.UtcNow);

    public bool Satisfied(ResourceKey owner) =>
        !_entries.TryGetValue(owner, out var e) || (e.Adds <= 0 && e.Deletes.Count == 0) || _clock() - e.SetAt > Ttl;

    public void ExpectCreations(ResourceKey owner, int count)
    {
        var e = Fresh(owner);
        e.Adds = count;
    }

    public void ExpectDeletions(ResourceKey owner, IEnumerable<string> podUids)
    {
        var e = Fresh(owner);
        e.Deletes.UnionWith(podUids);
    }

    public void CreationObserved(ResourceKey owner)
    {
        if (_entries.TryGetValue(owner, out var e) && e.Adds > 0) e.Adds--;
    }

    /// <summary>Creations that will not happen after all (a slow-start run stopped before sending them).</summary>
    public void LowerCreations(ResourceKey owner, int count)
    {
        if (_entries.TryGetValue(owner, out var e)) e.Adds = Math.Max(0, e.Adds - count);
    }

    public void DeletionObserved(ResourceKey owner, string? podUid)
    {
        if (podUid is not null && _entries.TryGetValue(owner, out var e)) e.Deletes.Remove(podUid);
    }

    public void Forget(ResourceKey owner) => _entries.Remove(owner);

    private Entry Fresh(ResourceKey owner)
    {
        if (!_entries.TryGetValue(owner, out var e) || _clock() - e.SetAt > Ttl)
            _entries[owner] = e = new Entry();
        e.SetAt = _clock();
        return e;
    }
}
