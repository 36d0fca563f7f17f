using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store;

/// <summary>Whether this master's replica follows the leader's store (the API then serves reads here).</summary>
internal sealed class ReplicaHealth
{
    private volatile bool _following;

    public bool Following
    {
        get => _following;
        set => _following = value;
    }
}

/// <summary>
/// A master's read-only copy of the ObjectStore's state, fed by the leader store's change stream (ReplicationProtocol.cs):
/// a consistent snapshot at resourceVersion R, then every change after R in order; a gap in the stream, or the feed's
/// end (a new leader), starts it again from a new snapshot. It answers the store's read protocol (GetObject, ListObjects,
/// WatchObjects, Unwatch) as the store does, with resourceVersion semantics: a read without a version is consistent — it
/// waits until the replica has applied the leader's resourceVersion of the moment it arrived (asked in the stream,
/// coalesced across reads); a read or watch from N waits until the replica is at N or later; version 0 reads what is
/// there. A wait ends after <see cref="ReadWait"/> (kube's watch cache waits as long) with 504. Watches replay from its own
/// window or get 410 Gone; they end (410) when a new snapshot replaces the state. It refuses writes (503): the API
/// forwards them to the leader.
/// </summary>
internal sealed class StoreReplica : ReceiveActor, IWithTimers
{
    public const string ActorName = "store-replica";

    /// <summary>How long a read waits for the replica to reach its version (kube-apiserver's watch cache: 3 s).</summary>
    public static readonly TimeSpan ReadWait = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private readonly IResourceCatalog _catalog;
    private readonly Func<ActorSelection?> _locateStore;
    private readonly ObjectStoreSettings _settings;
    private readonly ReplicaHealth _health;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<IActorRef> _watchers = [];
    private readonly List<Wait> _waits = [];
    private StoreState _state = new();
    private WatchHub _watch;
    private StoreState? _loading;
    private IActorRef? _feed;
    private long _expected = 1;
    private bool _loaded;
    private bool _following;
    private List<Wait> _nextRound = [];
    private List<Wait> _thisRound = [];
    private bool _progressAsked;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>A read waiting for a version (<see cref="MinResourceVersion"/>; null: the leader's next progress report).</summary>
    private sealed record Wait(long? MinResourceVersion, DateTime Deadline, Action Serve, Action Expire);

    private sealed record Tick
    {
        public static Tick Instance { get; } = new();
    }

    private sealed record Reconnect
    {
        public static Reconnect Instance { get; } = new();
    }

    private sealed record WatcherTerminated(IActorRef Subscriber);

    public StoreReplica(IResourceCatalog catalog, Func<ActorSelection?> locateStore, ObjectStoreSettings settings, ReplicaHealth health)
    {
        _catalog = catalog;
        _locateStore = locateStore;
        _settings = settings;
        _health = health;
        _watch = NewWindow(0);

        Receive<SnapshotPart>(p =>
        {
            if (!Accept(p.Sequence)) return;
            _loading ??= new StoreState();
            foreach (var o in p.Objects)
            {
                var obj = _catalog.Decode(o.Resource, o.Json);
                _loading.Put(o.Resource, obj, long.TryParse(obj.Metadata.ResourceVersion, out var rv) ? rv : 0, o.Json.Length);
            }
        });
        Receive<SnapshotDone>(d =>
        {
            if (Accept(d.Sequence)) Loaded(d.ResourceVersion);
        });
        Receive<ChangeReplicated>(c =>
        {
            if (!Accept(c.Sequence)) return;
            Apply(c);
            ServeWaits();
        });
        Receive<ProgressReported>(p =>
        {
            if (!Accept(p.Sequence)) return;
            _state.AdvanceTo(p.ResourceVersion);
            var round = _thisRound;
            _thisRound = [];
            _progressAsked = false;
            foreach (var wait in round) wait.Serve();
            ServeWaits();
            AskProgress();
        });
        Receive<Terminated>(t => t.ActorRef.Equals(_feed), _ => Restart("the leader's feed ended"));
        // an earlier feed's end, already queued when it was unwatched (unhandled, it would stop the replica)
        Receive<Terminated>(_ => { });
        Receive<Reconnect>(_ =>
        {
            if (_feed is null) Connect();
        });
        Receive<Tick>(_ => Expire(DateTime.UtcNow));

        Receive<GetObject>(get => Read(get.NotOlderThan, sender => Get(get, sender)));
        // a list from a version not reached in time is answered with what there is: the API then answers 504 "Too large
        // resource version" exactly as on the leader
        Receive<ListObjects>(list => Read(list.NotOlderThan, sender => List(list, sender), serveWhenLate: list.NotOlderThan is > 0));
        Receive<WatchObjects>(StartWatch);
        Receive<CatchUp>(_ =>
        {
            Read(null, sender => sender.Tell(new CaughtUp(_state.ResourceVersion)));
        });
        Receive<Unwatch>(u => Unsubscribe(u.Subscriber));
        Receive<WatcherTerminated>(t => Unsubscribe(t.Subscriber));
        Receive<CreateObject>(_ => Sender.Tell(new StoreFailed(ReadOnly)));
        Receive<UpdateObject>(_ => Sender.Tell(new StoreFailed(ReadOnly)));
        Receive<DeleteObject>(_ => Sender.Tell(new StoreFailed(ReadOnly)));
        Receive<WriteObjects>(w => Sender.Tell(new ObjectsWritten(w.Requests.Select(_ => (object)new StoreFailed(ReadOnly)).ToList())));
    }

    public static Props Props(IResourceCatalog catalog, Func<ActorSelection?> locateStore, ObjectStoreSettings? settings = null,
        ReplicaHealth? health = null) =>
        Akka.Actor.Props.Create(() => new StoreReplica(catalog, locateStore, settings ?? ObjectStoreSettings.Default, health ?? new ReplicaHealth()));

    private static readonly StoreError ReadOnly =
        StoreErrors.Unavailable("this master's replica of the store serves reads only; writes go to the master holding the control plane");

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromMilliseconds(200));
        Connect();
    }

    protected override void PostStop()
    {
        _health.Following = false;
        _feed?.Tell(new StopReplication());
    }

    private WatchHub NewWindow(long resourceVersion)
    {
        var hub = new WatchHub(_settings.WatchWindow, _settings.WatchWindowBytes, _settings.WatchWindowMaxAge);
        hub.Reset(resourceVersion);
        return hub;
    }

    // ---- the stream ----

    private void Connect()
    {
        _locateStore()?.Tell(new StartReplication(), Self);
        Timers.StartSingleTimer("connect", Reconnect.Instance, RetryInterval);
    }

    /// <summary>Whether the message is the next one of the feed this replica follows (the first message names the feed);
    /// a gap starts over from a new snapshot.</summary>
    private bool Accept(long sequence)
    {
        if (_feed is null)
        {
            if (sequence != 1)
            {
                Sender.Tell(new StopReplication());
                return false;
            }
            _feed = Sender;
            Context.Watch(_feed);
            Timers.Cancel("connect");
        }
        else if (!Sender.Equals(_feed))
        {
            Sender.Tell(new StopReplication());
            return false;
        }
        if (sequence != _expected)
        {
            Restart($"message {sequence} of the leader's feed came where {_expected} was due");
            return false;
        }
        _expected++;
        return true;
    }

    private void Restart(string why)
    {
        _log.Warning("Replica: {0}; reading a new snapshot", why);
        if (_feed is not null)
        {
            Context.Unwatch(_feed);
            _feed.Tell(new StopReplication());
            _feed = null;
        }
        _expected = 1;
        _loading = null;
        _following = false;
        _health.Following = false;
        // a progress report asked of the old feed will not come
        _nextRound.InsertRange(0, _thisRound);
        _thisRound = [];
        _progressAsked = false;
        Connect();
    }

    private void Loaded(long resourceVersion)
    {
        var loaded = _loading ?? new StoreState();
        loaded.SetResourceVersion(resourceVersion);
        _loading = null;
        var previous = _state.ResourceVersion;
        _state = loaded;
        if (!_loaded || resourceVersion != previous)
        {
            // the watches here missed what changed between their version and the snapshot's: they end, and their
            // clients watch again from their version (410 if the new window no longer has it) or relist
            foreach (var watcher in _watchers)
            {
                watcher.Tell(new StoreFailed(StoreErrors.Expired(previous, resourceVersion)));
                _watch.Unsubscribe(watcher);
                Context.Unwatch(watcher);
            }
            _watchers.Clear();
            _watch = NewWindow(resourceVersion);
        }
        _loaded = true;
        _following = true;
        _health.Following = true;
        _log.Info("Replica: following the leader's store from resourceVersion {0}", resourceVersion);
        ServeWaits();
        AskProgress();
    }

    private void Apply(ChangeReplicated change)
    {
        var obj = _catalog.Decode(change.Resource, change.Json);
        if (change.Type == "DELETED")
            _state.Remove(change.Resource, obj.Metadata.NamespaceProperty, obj.Metadata.Name, change.ResourceVersion);
        else
            _state.Put(change.Resource, obj, change.ResourceVersion, change.Json.Length);
        _watch.Publish(new ObjectChanged(change.Type, change.Resource, obj, change.ResourceVersion), change.Json.Length);
    }

    // ---- waits ----

    /// <summary>Runs <paramref name="serve"/> once the replica is at <paramref name="notOlderThan"/> (0: at once once
    /// loaded; null: at the leader's current version), or answers 504 after <see cref="ReadWait"/>.</summary>
    private void Read(long? notOlderThan, Action<IActorRef> serve, bool serveWhenLate = false)
    {
        var sender = Sender;
        var wait = new Wait(notOlderThan, DateTime.UtcNow + ReadWait, () => serve(sender),
            serveWhenLate ? () => serve(sender) : () => sender.Tell(new StoreFailed(TooLarge(notOlderThan))));
        if (notOlderThan is { } min)
        {
            if (Reached(min)) serve(sender);
            else _waits.Add(wait);
            return;
        }
        _nextRound.Add(wait);
        AskProgress();
    }

    private bool Reached(long min) => _loaded && _state.ResourceVersion >= min;

    /// <summary>The answer of a read whose wait ran out: 504 with retryAfterSeconds 1, as kube's watch cache answers (its
    /// resourceVersionTooHighRetrySeconds), so that clients ask again by themselves.</summary>
    private StoreError TooLarge(long? requested) => (requested is { } n and > 0
        ? new StoreError(504, "Timeout", $"Too large resource version: {n}, current: {_state.ResourceVersion}",
            [new StoreErrorCause("", "ResourceVersionTooLarge", "Too large resource version")])
        : new StoreError(504, "Timeout",
            "Timeout: this master's replica of the store could not confirm the leader's current resourceVersion in time; retry"))
        with { ClientRetryAfterSeconds = 1 };

    /// <summary>One progress request at a time; the reads that arrive meanwhile wait for the next, whose answer is
    /// certain to come after they did.</summary>
    private void AskProgress()
    {
        if (_progressAsked || !_following || _nextRound.Count == 0) return;
        _thisRound = _nextRound;
        _nextRound = [];
        _progressAsked = true;
        _feed!.Tell(new ProgressRequested());
    }

    private void ServeWaits()
    {
        if (_waits.Count == 0) return;
        var ready = _waits.Where(w => Reached(w.MinResourceVersion!.Value)).ToList();
        foreach (var wait in ready)
        {
            _waits.Remove(wait);
            wait.Serve();
        }
    }

    private void Expire(DateTime now)
    {
        foreach (var list in new[] { _waits, _nextRound, _thisRound })
            for (var i = list.Count - 1; i >= 0; i--)
                if (list[i].Deadline <= now)
                {
                    var wait = list[i];
                    list.RemoveAt(i);
                    wait.Expire();
                }
        _watch.Trim(now);
    }

    // ---- reads, as the store answers them ----

    private void Get(GetObject get, IActorRef sender)
    {
        var resource = _catalog.Find(get.Key.Resource);
        var obj = resource is null ? null : _state.Get(get.Key);
        sender.Tell(obj is not null
            ? new ObjectStored(obj)
            : new StoreFailed(resource is null ? StoreErrors.UnknownResource(get.Key.Resource) : StoreErrors.NotFound(resource, get.Key.Name)));
    }

    private void List(ListObjects list, IActorRef sender) =>
        sender.Tell(_catalog.Find(list.Resource) is null
            ? new StoreFailed(StoreErrors.UnknownResource(list.Resource))
            : new ObjectsListed(_state.List(list.Resource, list.Namespace), _state.ResourceVersion)
            {
                Continues = list.Continuing is { } rest && rest.ResourceVersion <= _state.ResourceVersion
                    && _watch.UnchangedSince(list.Resource, list.Namespace, rest.ResourceVersion, rest.Start),
            });

    private void StartWatch(WatchObjects watch)
    {
        if (watch.Resource != "*" && _catalog.Find(watch.Resource) is null)
        {
            Sender.Tell(new StoreFailed(StoreErrors.UnknownResource(watch.Resource)));
            return;
        }
        // a watch from a version this replica has not reached starts once it has (the changes up to it are not news)
        Read(watch.FromResourceVersion is > 0 and var from ? from : 0, sender =>
        {
            if (_watch.CheckReplayable(watch.FromResourceVersion) is { } error)
            {
                sender.Tell(new StoreFailed(error));
                return;
            }
            if (watch.Sink is { } sink) sink.TryWrite(new WatchStarted(_state.ResourceVersion)); // a new channel: never full
            else sender.Tell(new WatchStarted(_state.ResourceVersion));
            if (_watch.Subscribe(watch.Resource, watch.Namespace, watch.FromResourceVersion, watch.Subscriber, watch.Batches, watch.Sink)
                && _watchers.Add(watch.Subscriber))
                Context.WatchWith(watch.Subscriber, new WatcherTerminated(watch.Subscriber));
        });
    }

    private void Unsubscribe(IActorRef subscriber)
    {
        _watch.Unsubscribe(subscriber);
        if (_watchers.Remove(subscriber)) Context.Unwatch(subscriber);
    }
}
