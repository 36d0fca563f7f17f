using Akka.Actor;

namespace Orchestrator.Master.Store;

/// <summary>
/// The store's change feed: who watches what, and a bounded window of the most recent changes for replay
/// (Kubernetes' watch cache in miniature). A plain class owned by the ObjectStore actor; it never blocks and
/// only Tells.
/// </summary>
internal sealed class WatchHub
{
    private readonly int _capacity;
    private readonly LinkedList<ObjectChanged> _window = new();
    private readonly Dictionary<IActorRef, List<Subscription>> _subscriptions = new();

    private sealed record Subscription(string Resource, string? Namespace)
    {
        public bool Matches(ObjectChanged change) =>
            (Resource == "*" || Resource == change.Resource) &&
            (Namespace is null || Namespace == change.Object.Metadata.NamespaceProperty);
    }

    public WatchHub(int capacity = 10_000) => _capacity = capacity;

    /// <summary>Every change with a version above this one is still in the window.</summary>
    public long Floor { get; private set; }

    public int SubscriberCount => _subscriptions.Count;

    /// <summary>Starts the window at <paramref name="resourceVersion"/> (after recovery from a snapshot).</summary>
    public void Reset(long resourceVersion)
    {
        _window.Clear();
        Floor = resourceVersion;
    }

    /// <summary>Records the change in the window and sends it to matching subscribers.</summary>
    public void Publish(ObjectChanged change)
    {
        _window.AddLast(change);
        while (_window.Count > _capacity)
        {
            Floor = _window.First!.Value.ResourceVersion;
            _window.RemoveFirst();
        }
        foreach (var (subscriber, subscriptions) in _subscriptions)
            if (subscriptions.Any(s => s.Matches(change)))
                subscriber.Tell(change, ActorRefs.NoSender);
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
            foreach (var change in _window)
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
