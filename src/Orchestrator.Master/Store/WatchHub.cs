using Akka.Actor;

namespace Orchestrator.Master.Store;

/// <summary>
/// The store's change feed: who watches what, and a window of the most recent changes for replay (Kubernetes'
/// watch cache in miniature), bounded in changes, in the JSON bytes of their objects and in age (a watch from an
/// older version gets 410 Gone and relists, as after etcd's compaction every 5 minutes), so a burst of large
/// objects does not stay in memory for good. A plain class owned by the ObjectStore actor; it never blocks and
/// only Tells.
/// </summary>
internal sealed class WatchHub
{
    private readonly int _capacity;
    private readonly long _maxBytes;
    private readonly TimeSpan _maxAge;
    private readonly LinkedList<(ObjectChanged Change, int Bytes, DateTime At)> _window = new();
    private readonly Dictionary<IActorRef, List<Subscription>> _subscriptions = new();

    private sealed record Subscription(string Resource, string? Namespace)
    {
        public bool Matches(ObjectChanged change) =>
            (Resource == "*" || Resource == change.Resource) &&
            (Namespace is null || Namespace == change.Object.Metadata.NamespaceProperty);
    }

    public WatchHub(int capacity = 10_000, long maxBytes = long.MaxValue, TimeSpan? maxAge = null)
    {
        _capacity = capacity;
        _maxBytes = maxBytes;
        _maxAge = maxAge ?? TimeSpan.MaxValue;
    }

    /// <summary>Every change with a version above this one is still in the window.</summary>
    public long Floor { get; private set; }

    public int SubscriberCount => _subscriptions.Count;

    public int Count => _window.Count;

    /// <summary>The JSON bytes of the objects the window holds.</summary>
    public long Bytes { get; private set; }

    /// <summary>Starts the window at <paramref name="resourceVersion"/> (after recovery from a snapshot).</summary>
    public void Reset(long resourceVersion)
    {
        _window.Clear();
        Bytes = 0;
        Floor = resourceVersion;
    }

    /// <summary>Records the change (<paramref name="bytes"/>: its object's JSON size) in the window and sends it to
    /// matching subscribers. The newest change always stays, however large.</summary>
    public void Publish(ObjectChanged change, int bytes = 0, DateTime? at = null)
    {
        _window.AddLast((change, bytes, at ?? DateTime.UtcNow));
        Bytes += bytes;
        while (_window.Count > 1 && (_window.Count > _capacity || Bytes > _maxBytes)) DropOldest();
        foreach (var (subscriber, subscriptions) in _subscriptions)
            if (subscriptions.Any(s => s.Matches(change)))
                subscriber.Tell(change, ActorRefs.NoSender);
    }

    /// <summary>Drops the changes older than the window's age; returns the bytes they held.</summary>
    public long Trim(DateTime now)
    {
        var before = Bytes;
        while (_window.First is { } first && now - first.Value.At > _maxAge) DropOldest();
        return before - Bytes;
    }

    private void DropOldest()
    {
        var (oldest, oldestBytes, _) = _window.First!.Value;
        Floor = oldest.ResourceVersion;
        Bytes -= oldestBytes;
        _window.RemoveFirst();
    }

    /// <summary>Whether the window shows that no object of <paramref name="resource"/> (in <paramref name="ns"/>, or any
    /// namespace) whose key "namespace/name" is <paramref name="start"/> or after it changed after
    /// <paramref name="resourceVersion"/>: false when a change did, or the window no longer reaches back to that version.</summary>
    public bool UnchangedSince(string resource, string? ns, long resourceVersion, string start)
    {
        if (resourceVersion < Floor) return false;
        for (var node = _window.Last; node is not null && node.Value.Change.ResourceVersion > resourceVersion; node = node.Previous)
        {
            var change = node.Value.Change;
            if (change.Resource != resource) continue;
            var meta = change.Object.Metadata;
            if (ns is not null && meta.NamespaceProperty != ns) continue;
            if (string.CompareOrdinal($"{meta.NamespaceProperty}/{meta.Name}", start) >= 0) return false;
        }
        return true;
    }

    /// <summary>The error for a watch from a version that has left the window, or null (null or 0 means
    /// "from now", Kubernetes' "any version").</summary>
    public StoreError? CheckReplayable(long? fromResourceVersion) =>
        fromResourceVersion is { } from && from > 0 && from < Floor ? StoreErrors.Expired(from, Floor) : null;

    /// <summary>
    /// Subscribes, first replaying the window's changes after <paramref name="fromResourceVersion"/> (check with
    /// <see cref="CheckReplayable"/> first). Returns true when this is the subscriber's first subscription, so
    /// the caller death-watches it.
    /// </summary>
    public bool Subscribe(string resource, string? ns, long? fromResourceVersion, IActorRef subscriber)
    {
        var subscription = new Subscription(resource, ns);
        if (fromResourceVersion is { } from && from > 0)
            foreach (var (change, _, _) in _window)
                if (change.ResourceVersion > from && subscription.Matches(change))
                    subscriber.Tell(change, ActorRefs.NoSender);
        var first = !_subscriptions.TryGetValue(subscriber, out var list);
        if (first) _subscriptions[subscriber] = list = [];
        list!.Add(subscription);
        return first;
    }

    /// <summary>Drops every subscription of the subscriber; true when it had any.</summary>
    public bool Unsubscribe(IActorRef subscriber) => _subscriptions.Remove(subscriber);
}
