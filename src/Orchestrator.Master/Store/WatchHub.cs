using System.Threading.Channels;
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
    private readonly Dictionary<IActorRef, Subscriber> _subscriptions = new();
    /// <summary>Changes published while held, delivered together by <see cref="Deliver"/>.</summary>
    private readonly List<ObjectChanged> _held = [];
    private bool _holding;

    /// <summary>A subscriber's subscriptions, whether it takes a commit's changes as one <see cref="ObjectsChanged"/>, and
    /// the channel its messages are written to instead of Told (<see cref="WatchObjects.Sink"/>).</summary>
    private sealed class Subscriber(bool batches, ChannelWriter<object>? sink)
    {
        public List<Subscription> Subscriptions { get; } = [];
        public bool Batches { get; set; } = batches;
        public ChannelWriter<object>? Sink { get; set; } = sink;

        public bool Matches(ObjectChanged change)
        {
            foreach (var subscription in Subscriptions)
                if (subscription.Matches(change)) return true;
            return false;
        }
    }

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
    /// matching subscribers (while <see cref="Hold"/>ing, at <see cref="Deliver"/>). The newest change always stays,
    /// however large.</summary>
    public void Publish(ObjectChanged change, int bytes = 0, DateTime? at = null)
    {
        _window.AddLast((change, bytes, at ?? DateTime.UtcNow));
        Bytes += bytes;
        while (_window.Count > 1 && (_window.Count > _capacity || Bytes > _maxBytes)) DropOldest();
        if (_holding)
        {
            _held.Add(change);
            return;
        }
        // Plain loops: this runs on the store's serial path for every change and every subscriber.
        foreach (var (subscriber, subscription) in _subscriptions)
            if (subscription.Matches(change))
                Send(subscriber, subscription, change);
        DropFull();
    }

    // Subscribers whose sink was full: dropped after the loop over the subscriptions.
    private List<IActorRef>? _full;

    /// <summary>Tells the subscriber, or writes into its sink; a full sink is completed (the watch fell too far behind, as
    /// its forwarder decided before: the client re-watches) and its subscription dropped.</summary>
    private void Send(IActorRef subscriber, Subscriber to, object message)
    {
        if (to.Sink is not { } sink)
        {
            subscriber.Tell(message, ActorRefs.NoSender);
            return;
        }
        if (sink.TryWrite(message)) return;
        sink.TryComplete(new WatchFeedEndedException("the watch fell too far behind"));
        (_full ??= []).Add(subscriber);
    }

    private void DropFull()
    {
        if (_full is null) return;
        foreach (var subscriber in _full) _subscriptions.Remove(subscriber);
        _full = null;
    }

    /// <summary>Holds the changes published from now on until <see cref="Deliver"/> (the records of one journal commit).</summary>
    public void Hold() => _holding = true;

    /// <summary>
    /// Sends the held changes, subscriber by subscriber: each gets the ones it matches back to back, in their order —
    /// as one <see cref="ObjectsChanged"/> when it asked for batches and more than one matches — so that a watch writes a
    /// commit's events to its client at once instead of interleaved with every other subscriber's.
    /// </summary>
    public void Deliver()
    {
        _holding = false;
        if (_held.Count == 0) return;
        // The batch of every held change, made once and sent to each batch subscriber that matches them all (the usual
        // case: a hundred watchers of one resource get one message instance, not a list each).
        ObjectsChanged? whole = null;
        foreach (var (subscriber, subscription) in _subscriptions)
        {
            if (subscription.Batches && MatchesAll(subscription))
            {
                Send(subscriber, subscription, _held.Count == 1 ? _held[0] : whole ??= new ObjectsChanged(_held.ToArray()));
                continue;
            }
            List<ObjectChanged>? batch = null;
            foreach (var change in _held)
            {
                if (!subscription.Matches(change)) continue;
                if (subscription.Batches) (batch ??= []).Add(change);
                else Send(subscriber, subscription, change);
            }
            if (batch is null) continue;
            Send(subscriber, subscription, batch.Count == 1 ? batch[0] : new ObjectsChanged(batch));
        }
        _held.Clear();
        DropFull();
    }

    private bool MatchesAll(Subscriber subscriber)
    {
        foreach (var change in _held)
            if (!subscriber.Matches(change)) return false;
        return true;
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
    /// <see cref="CheckReplayable"/> first; to a subscriber that takes <paramref name="batches"/>, as one
    /// <see cref="ObjectsChanged"/>). Returns true when this is the subscriber's first subscription, so the caller
    /// death-watches it.
    /// </summary>
    public bool Subscribe(string resource, string? ns, long? fromResourceVersion, IActorRef subscriber, bool batches = false,
        ChannelWriter<object>? sink = null)
    {
        var subscription = new Subscription(resource, ns);
        var first = !_subscriptions.TryGetValue(subscriber, out var existing);
        if (first) _subscriptions[subscriber] = existing = new Subscriber(batches, sink);
        // one sink per subscriber: a subscription without it (or with another) makes the subscriber a Told one
        else if (!ReferenceEquals(existing!.Sink, sink)) existing.Sink = null;
        if (fromResourceVersion is { } from && from > 0)
        {
            var replayed = new List<ObjectChanged>();
            foreach (var (change, _, _) in _window)
                if (change.ResourceVersion > from && subscription.Matches(change))
                    replayed.Add(change);
            if (batches && replayed.Count > 1) Send(subscriber, existing!, new ObjectsChanged(replayed));
            else foreach (var change in replayed) Send(subscriber, existing!, change);
        }
        existing!.Subscriptions.Add(subscription);
        existing.Batches &= batches;
        DropFull();
        return first;
    }

    /// <summary>Drops every subscription of the subscriber; true when it had any.</summary>
    public bool Unsubscribe(IActorRef subscriber) => _subscriptions.Remove(subscriber);
}
