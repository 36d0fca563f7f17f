using System.Text;
using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store.Encryption;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Master.Store.Watch;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

/// <summary>
/// The ObjectStore owns every API object in memory and answers reads and watches from there; its child
/// <see cref="JournalWriter"/> makes writes durable. Every accepted write is one or more journal records whose
/// sequence numbers are the resourceVersions; a write is applied, published and acknowledged only once its
/// records are stored, and a refused write stores nothing. Writes are planned by <see cref="WritePlanner"/> against
/// the current state, one request at a time (the next waits in a bounded queue while one is being stored); reads
/// never wait for writes.
///
/// The journal may fail (a full disk): the write being stored is answered 500 and not applied, queued writes and
/// new ones get 503 at once, reads and watches go on from memory, /readyz turns false, and a new writer is started
/// with back-off. It replays whatever reached the journal after the store's resourceVersion, stores a probe record,
/// and the store takes writes again — no restart of the process, no watch dropped.
///
/// Also here: events expire (--event-ttl); snapshots every <see cref="ObjectStoreSettings.SnapshotEvery"/> records
/// or as many bytes as all objects hold, with the journal compacted behind them; objects larger than
/// <see cref="ObjectStoreSettings.MaxObjectBytes"/> are refused; the default namespaces and the "kubernetes" Service
/// are created whenever the journal becomes writable and they are missing.
/// </summary>
public sealed class ObjectStore : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    public const string ActorName = "object-store";

    private readonly ObjectStoreSettings _settings;
    private readonly StoreHealth _health;
    private readonly StorageTransformer _transformer;
    private readonly SqliteJournalFile? _file;
    private readonly StoreState _state = new();
    private readonly WatchHub _watch;
    private readonly WritePlanner _planner;
    private readonly EventExpiry _expiry;
    private readonly Queue<PendingWrite> _queue = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private InFlight? _inFlight;
    private IActorRef? _writer;
    private int _incarnation;
    private bool _recovered;
    private bool _writable;
    private bool _rewriteNeeded;
    private bool _serving;
    private string _failure = "the journal writer stopped";
    private TimeSpan _backoff;
    private long _recordsSinceSnapshot;
    private long _bytesSinceSnapshot;
    private long _bytesSinceReclaim;

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(ObjectStoreSettings? settings = null, StoreHealth? health = null,
        StorageTransformer? transformer = null, SqliteJournalFile? file = null) =>
        Akka.Actor.Props.Create(() => new ObjectStore(settings ?? ObjectStoreSettings.Default, health ?? new StoreHealth(),
            transformer ?? StorageTransformer.Identity, file));

    public ObjectStore(ObjectStoreSettings settings, StoreHealth health, StorageTransformer transformer, SqliteJournalFile? file)
    {
        _settings = settings;
        _health = health;
        _transformer = transformer;
        _file = file;
        _watch = new WatchHub(settings.WatchWindow, settings.WatchWindowBytes, settings.WatchWindowMaxAge);
        _planner = new WritePlanner(_state);
        _expiry = new EventExpiry(settings.EventTimeToLive);
        _backoff = settings.BackoffMin;
        Recovering();
    }

    protected override void PreStart()
    {
        StartWriter();
        var shortest = Math.Min(_settings.EventTimeToLive.Ticks, _settings.WatchWindowMaxAge.Ticks);
        var sweep = TimeSpan.FromTicks(Math.Clamp(shortest / 10, TimeSpan.FromMilliseconds(250).Ticks, TimeSpan.FromSeconds(30).Ticks));
        Timers.StartPeriodicTimer("expire", Expiry.Instance, sweep);
    }

    private sealed record WriterStopped(int Incarnation);
    private sealed record RestartWriter
    {
        public static RestartWriter Instance { get; } = new();
    }
    private sealed record Expiry
    {
        public static Expiry Instance { get; } = new();
    }
    private sealed record WatcherTerminated(IActorRef Subscriber);
    private sealed record ReclaimMemory(bool FollowUp)
    {
        public static ReclaimMemory First { get; } = new(false);
        public static ReclaimMemory Again { get; } = new(true);
    }

    /// <summary>A write waiting for its turn: planned when it starts, against the state of that moment.</summary>
    private sealed record PendingWrite(Func<WritePlan> Plan, bool DryRun,
        Action<IKubernetesObject<V1ObjectMeta>?> Done, Action<StoreError> Failed);

    private sealed record Staged(IStoreRecord Record, IKubernetesObject<V1ObjectMeta> Object, int Bytes);

    private sealed record InFlight(PendingWrite Write, IKubernetesObject<V1ObjectMeta>? Result, IReadOnlyList<Staged> Records);

    // ---- behaviours ----

    /// <summary>Until the journal has been read and the default objects are stored (or the journal has failed
    /// after being read), every request waits.</summary>
    private void Recovering()
    {
        JournalMessages();
        Receive<JournalWritable>(w =>
        {
            OnWritable(w);
            ServeOnceIdle();
        });
        Receive<RecordsPersisted>(p =>
        {
            OnPersisted(p);
            ServeOnceIdle();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void ServeOnceIdle()
    {
        if (_inFlight is null && _queue.Count == 0) BecomeServing();
    }

    private void BecomeServing()
    {
        _serving = true;
        if (_writable) _health.Writable();
        Become(Serving);
        Stash.UnstashAll();
    }

    private void Serving()
    {
        JournalMessages();
        Receive<JournalWritable>(OnWritable);
        Receive<RecordsPersisted>(OnPersisted);
        Receive<CreateObject>(cmd => Request(() => _planner.PlanCreate(cmd.Resource, cmd.Object), cmd.DryRun));
        Receive<UpdateObject>(cmd => Request(() => _planner.PlanUpdate(cmd.Resource, cmd.Object, cmd.Subresource), cmd.DryRun));
        Receive<DeleteObject>(cmd => Request(() => _planner.PlanDelete(cmd), cmd.DryRun));
        Reads();
        Receive<Expiry>(_ =>
        {
            Expire();
            var dropped = _watch.Trim(DateTime.UtcNow);
            if (dropped > 0) ScheduleReclaim(dropped);
        });
        Receive<ReclaimMemory>(Reclaim);
    }

    /// <summary>The journal cannot be read: nothing is served; the host ends the process (<see cref="StoreHealth.Fatal"/>).</summary>
    private void Broken()
    {
        void Refuse() => Sender.Tell(new StoreFailed(StoreErrors.Unavailable($"the object store cannot read its journal: {_health.NotReadyReason}")));
        Receive<CreateObject>(_ => Refuse());
        Receive<UpdateObject>(_ => Refuse());
        Receive<DeleteObject>(_ => Refuse());
        Receive<GetObject>(_ => Refuse());
        Receive<ListObjects>(_ => Refuse());
        Receive<WatchObjects>(_ => Refuse());
        ReceiveAny(_ => { });
    }

    private void JournalMessages()
    {
        Receive<JournalSnapshotLoaded>(LoadSnapshot);
        Receive<JournalRecordsReplayed>(r => Replay(r.Records));
        Receive<JournalRecovered>(OnRecovered);
        Receive<JournalFailed>(f => _failure = f.Reason);
        Receive<WriterStopped>(OnWriterStopped);
        Receive<RestartWriter>(_ => StartWriter());
        Receive<JournalCompacted>(c => _log.Debug("Compacted the journal behind {0}; the database is {1} bytes", c.SequenceNr, c.FileBytes));
    }

    private void Reads()
    {
        Receive<GetObject>(Get);
        Receive<ListObjects>(List);
        Receive<WatchObjects>(StartWatch);
        Receive<Unwatch>(u =>
        {
            if (_watch.Unsubscribe(u.Subscriber)) Context.Unwatch(u.Subscriber);
        });
        // Statements, not expressions: a Terminated left unhandled is a DeathPactException that stops the store.
        Receive<Terminated>(t => { _watch.Unsubscribe(t.ActorRef); });
        Receive<WatcherTerminated>(t => { _watch.Unsubscribe(t.Subscriber); });
    }

    // ---- reads and watches ----

    private void Get(GetObject get)
    {
        var resource = StoreResources.Find(get.Key.Resource);
        var obj = resource is null ? null : _state.Get(get.Key);
        Sender.Tell(obj is not null
            ? new ObjectStored(obj)
            : new StoreFailed(resource is null ? StoreErrors.UnknownResource(get.Key.Resource) : StoreErrors.NotFound(resource, get.Key.Name)));
    }

    private void List(ListObjects list) =>
        Sender.Tell(StoreResources.Find(list.Resource) is null
            ? new StoreFailed(StoreErrors.UnknownResource(list.Resource))
            : new ObjectsListed(_state.List(list.Resource, list.Namespace), _state.ResourceVersion));

    private void StartWatch(WatchObjects watch)
    {
        var error = watch.Resource != "*" && StoreResources.Find(watch.Resource) is null
            ? StoreErrors.UnknownResource(watch.Resource)
            : _watch.CheckReplayable(watch.FromResourceVersion);
        if (error is not null)
        {
            Sender.Tell(new StoreFailed(error));
            return;
        }
        // The reply comes first, then the replayed changes, as the protocol promises.
        Sender.Tell(new WatchStarted(_state.ResourceVersion));
        if (_watch.Subscribe(watch.Resource, watch.Namespace, watch.FromResourceVersion, watch.Subscriber))
            Context.WatchWith(watch.Subscriber, new WatcherTerminated(watch.Subscriber));
    }

    // ---- writes ----

    private void Request(Func<WritePlan> plan, bool dryRun)
    {
        var sender = Sender;
        Write(new PendingWrite(plan, dryRun, obj => sender.Tell(new ObjectStored(obj!)), error => sender.Tell(new StoreFailed(error))));
    }

    private void Write(PendingWrite write)
    {
        // A dry run needs no journal, but it is planned after the writes that came before it.
        if (write.DryRun && _inFlight is null) Start(write);
        else if (!_writable && !write.DryRun) write.Failed(StoreErrors.Unavailable(UnavailableMessage));
        else if (_inFlight is not null)
        {
            if (_queue.Count >= _settings.MaxQueuedWrites) write.Failed(StoreErrors.TooManyRequests());
            else _queue.Enqueue(write);
        }
        else Start(write);
    }

    private string UnavailableMessage =>
        $"the object store cannot write to its journal at the moment ({_failure}); reads and watches are still served";

    private WritePlan Plan(Func<WritePlan> planner)
    {
        try
        {
            return planner();
        }
        catch (Exception e)
        {
            // A bug in planning must not restart the store: a restart would drop every watch.
            _log.Error(e, "Planning a write failed");
            return WritePlan.Fail(new StoreError(500, "InternalError", "Internal error occurred: the write could not be planned"));
        }
    }

    /// <summary>Plans the write, stamps the next resourceVersions and hands its records to the journal writer.</summary>
    private void Start(PendingWrite write)
    {
        var plan = Plan(write.Plan);
        if (plan.Error is not null)
        {
            write.Failed(plan.Error);
            return;
        }
        if (plan.Writes.Count == 0 || write.DryRun)
        {
            write.Done(plan.Result);
            return;
        }
        var rv = _state.ResourceVersion;
        var staged = new List<Staged>(plan.Writes.Count);
        foreach (var planned in plan.Writes)
        {
            var obj = planned.Object;
            obj.Metadata.ResourceVersion = (++rv).ToString();
            if (planned.Removed)
            {
                staged.Add(new Staged(new ObjectRemoved(planned.Resource, obj.Metadata.NamespaceProperty, obj.Metadata.Name, rv), obj, 0));
                continue;
            }
            var json = KubeObjects.Serialize(obj);
            var bytes = Encoding.UTF8.GetByteCount(json);
            if (bytes > _settings.MaxObjectBytes)
            {
                write.Failed(StoreErrors.RequestTooLarge());
                return;
            }
            staged.Add(new Staged(new ObjectPut(planned.Resource, json, rv), obj, bytes));
        }
        _inFlight = new InFlight(write, plan.Result, staged);
        _writer!.Tell(new PersistRecords(staged.Select(s => s.Record).ToList()));
    }

    private void OnPersisted(RecordsPersisted persisted)
    {
        if (_inFlight is not { } inFlight)
        {
            _log.Warning("The journal stored records the store did not send (sequence number {0})", persisted.LastSequenceNr);
            return;
        }
        _inFlight = null;
        foreach (var s in inFlight.Records) Apply(s.Record, s.Object, s.Bytes, live: true);
        _state.AdvanceTo(persisted.LastSequenceNr);
        inFlight.Write.Done(inFlight.Result);
        MaybeSnapshot();
        Drain();
    }

    /// <summary>
    /// After a burst of large objects written (or dropped from the watch window), once writes have paused for
    /// <see cref="ObjectStoreSettings.ReclaimAfterIdle"/>: a compacting collection that gives memory back to the
    /// system, and another a minute later, when the runtime's buffer pools have let go of the burst's buffers. The
    /// request bodies, versions and snapshots of such a burst sit in the large object heap, which only a full
    /// collection frees, and an idle process makes none: without this the master would keep a burst's peak.
    /// </summary>
    private void ScheduleReclaim(long bytes)
    {
        _bytesSinceReclaim += bytes;
        if (_bytesSinceReclaim >= _settings.ReclaimAfterBytes)
            Timers.StartSingleTimer("reclaim", ReclaimMemory.First, _settings.ReclaimAfterIdle);
    }

    private void Reclaim(ReclaimMemory reclaim)
    {
        var before = GC.GetGCMemoryInfo();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        NativeMemory.Trim();
        var after = GC.GetGCMemoryInfo();
        _log.Info("Gave memory back after {0} MB of large objects: heap {1} MB -> {2} MB, committed {3} MB -> {4} MB",
            _bytesSinceReclaim >> 20, before.HeapSizeBytes >> 20, after.HeapSizeBytes >> 20,
            before.TotalCommittedBytes >> 20, after.TotalCommittedBytes >> 20);
        _bytesSinceReclaim = 0;
        if (!reclaim.FollowUp) Timers.StartSingleTimer("reclaim", ReclaimMemory.Again, TimeSpan.FromSeconds(70));
    }

    private void Drain()
    {
        while (_inFlight is null && _queue.TryDequeue(out var next))
            if (_writable || next.DryRun) Start(next);
            else next.Failed(StoreErrors.Unavailable(UnavailableMessage));
    }

    /// <summary>Applies one stored record to the state and the change feed (live, and when reading the journal).</summary>
    private void Apply(IStoreRecord record, IKubernetesObject<V1ObjectMeta>? obj, int bytes, bool live)
    {
        _recordsSinceSnapshot++;
        switch (record)
        {
            case ObjectPut put:
                obj ??= StoreState.Materialize(put.Resource, put.Json);
                if (bytes == 0) bytes = Encoding.UTF8.GetByteCount(put.Json);
                _bytesSinceSnapshot += bytes;
                var previous = _state.Put(put.Resource, obj, put.ResourceVersion, bytes);
                if (EventExpiry.Expires(put.Resource))
                {
                    if (live) _expiry.Written(put.Resource, obj, DateTime.UtcNow);
                    else _expiry.Recovered(put.Resource, obj, DateTime.UtcNow);
                }
                _watch.Publish(new ObjectChanged(previous is null ? "ADDED" : "MODIFIED", put.Resource, obj, put.ResourceVersion), bytes);
                if (live) ScheduleReclaim(bytes);
                break;
            case ObjectRemoved removed:
                _expiry.Removed(removed.Resource, removed.Namespace, removed.Name);
                if (_state.Remove(removed.Resource, removed.Namespace, removed.Name, removed.ResourceVersion) is not { } entry) break;
                var (gone, goneBytes) = entry;
                if (obj is null)
                {
                    obj = KubeObjects.CloneObject(gone);
                    obj.Metadata.ResourceVersion = removed.ResourceVersion.ToString();
                }
                _watch.Publish(new ObjectChanged("DELETED", removed.Resource, obj, removed.ResourceVersion), goneBytes);
                if (live) ScheduleReclaim(goneBytes);
                break;
        }
    }

    // ---- the journal writer ----

    private void StartWriter()
    {
        _incarnation++;
        if (!_recovered) ResetState();
        _writer = Context.ActorOf(JournalWriter.Props(_transformer, _recovered ? _state.ResourceVersion : null, _file),
            $"journal-{_incarnation}");
        Context.WatchWith(_writer, new WriterStopped(_incarnation));
    }

    private void ResetState()
    {
        _state.Clear();
        _watch.Reset(0);
        _expiry.Clear();
        _recordsSinceSnapshot = _bytesSinceSnapshot = 0;
    }

    private void LoadSnapshot(JournalSnapshotLoaded loaded)
    {
        if (_recovered) return; // a replacing writer replays without a snapshot
        var snapshot = loaded.Snapshot;
        ResetState();
        try
        {
            foreach (var o in snapshot.Objects)
            {
                var obj = StoreState.Materialize(o.Resource, o.Json);
                _state.Put(o.Resource, obj, 0, Encoding.UTF8.GetByteCount(o.Json));
                if (EventExpiry.Expires(o.Resource)) _expiry.Recovered(o.Resource, obj, DateTime.UtcNow);
            }
        }
        catch (Exception e)
        {
            Unreadable($"the snapshot at sequence number {snapshot.ResourceVersion}", e);
            return;
        }
        _state.SetResourceVersion(snapshot.ResourceVersion);
        _watch.Reset(snapshot.ResourceVersion);
    }

    private void Replay(IReadOnlyList<IStoreRecord> records)
    {
        foreach (var record in records)
        {
            try
            {
                Apply(record, null, 0, live: _recovered);
            }
            catch (Exception e)
            {
                Unreadable($"journal record {(record as ObjectPut)?.ResourceVersion ?? (record as ObjectRemoved)?.ResourceVersion}", e);
                return;
            }
        }
    }

    /// <summary>A record that passed the start-up check but cannot be applied: the store cannot go on.</summary>
    private void Unreadable(string what, Exception e)
    {
        var message = $"{_file?.Path ?? "the journal"}: {what} cannot be read: {e.Message}";
        _log.Error(e, "{0}", message);
        _health.Failed(message);
        if (_writer is not null) Context.Stop(_writer);
        Become(Broken);
        Stash.UnstashAll();
    }

    private void OnRecovered(JournalRecovered recovered)
    {
        if (_recovered && recovered.LastSequenceNr < _state.ResourceVersion)
        {
            Unreadable($"the journal (it ends at {recovered.LastSequenceNr}, behind the store's resourceVersion {_state.ResourceVersion})",
                new InvalidOperationException("records that were acknowledged are missing"));
            return;
        }
        _state.AdvanceTo(recovered.LastSequenceNr);
        _rewriteNeeded |= recovered.RewriteNeeded;
        if (!_recovered) _log.Info("Recovered {0} objects at resourceVersion {1}", _state.All().Count(), _state.ResourceVersion);
        _recovered = true;
    }

    private void OnWritable(JournalWritable writable)
    {
        _state.AdvanceTo(writable.LastSequenceNr);
        if (_health.NotReadyReason is { } was && _recovered && _incarnation > 1)
            _log.Info("The journal takes writes again (it failed: {0})", was);
        _writable = true;
        _backoff = _settings.BackoffMin;
        _failure = "the journal writer stopped";
        // Ready once the default objects are stored too (see Recovering).
        if (_serving) _health.Writable();
        if (_rewriteNeeded)
        {
            _rewriteNeeded = false;
            Snapshot();
        }
        SeedDefaults();
        Drain();
    }

    private void OnWriterStopped(WriterStopped stopped)
    {
        if (stopped.Incarnation != _incarnation) return;
        _writer = null;
        _writable = false;
        _health.NotWritable(_recovered ? $"the journal cannot be written: {_failure}" : $"recovering the journal: {_failure}");
        if (_inFlight is { } inFlight)
        {
            _inFlight = null;
            inFlight.Write.Failed(StoreErrors.WriteFailed($"the object store could not write to its journal: {_failure}"));
        }
        while (_queue.TryDequeue(out var queued)) queued.Failed(StoreErrors.Unavailable(UnavailableMessage));
        var delay = _backoff + TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)(_backoff.TotalMilliseconds / 5) + 1));
        _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _settings.BackoffMax.Ticks));
        _log.Warning("The journal writer stopped ({0}); a new one starts in {1:0.0} s", _failure, delay.TotalSeconds);
        Timers.StartSingleTimer("restart-writer", RestartWriter.Instance, delay);
        // Read, but the first probe failed: serve reads (writes get 503) until a writer succeeds.
        if (_recovered) BecomeServing();
    }

    private void MaybeSnapshot()
    {
        if (_recordsSinceSnapshot >= _settings.SnapshotEvery ||
            _bytesSinceSnapshot >= Math.Max(_settings.SnapshotAfterBytes, _state.Bytes))
            Snapshot();
    }

    private void Snapshot()
    {
        if (!_writable || _writer is null) return;
        _recordsSinceSnapshot = _bytesSinceSnapshot = 0;
        _writer.Tell(new SaveStoreSnapshot(new StoreSnapshot(
            _state.All().Select(x => new SnapshotObject(x.Resource, KubeObjects.Serialize(x.Object))).ToList(),
            _state.ResourceVersion)));
    }

    // ---- writes of the store's own ----

    private PendingWrite Internal(string what, Func<WritePlan> plan, Action<StoreError>? failed = null) =>
        new(plan, false, _ => { }, error =>
        {
            if (failed is not null) failed(error);
            else _log.Warning("{0} failed: {1}", what, error.Message);
        });

    /// <summary>
    /// The objects every cluster has (kube-apiserver keeps the system namespaces and the "kubernetes" Service in
    /// place the same way): created, as ordinary writes, whenever they are missing and the journal takes writes.
    /// The namespaces go first because the Service needs "default".
    /// </summary>
    private void SeedDefaults()
    {
        Write(Internal("Creating the default namespaces", () => WritePlanner.Merge(DefaultObjects.Namespaces()
            .Where(ns => !_state.NamespaceExists(ns.Metadata.Name))
            .Select(ns => _planner.PlanCreate("namespaces", ns)))));
        Write(Internal("Creating the kubernetes Service", () => _state.Get("services", "default", "kubernetes") is not null
            ? new WritePlan([], null)
            : _planner.PlanCreate("services", DefaultObjects.KubernetesService())));
    }

    /// <summary>Deletes the events whose TTL has passed (at most 500 per journal write), as etcd's leases do.</summary>
    private void Expire()
    {
        if (!_writable) return;
        var now = DateTime.UtcNow;
        foreach (var chunk in _expiry.Due(now).Chunk(500))
            Write(Internal("Deleting expired events", () => new WritePlan(chunk
                    .Select(key => _expiry.IsDue(key, now) && _state.Get(key) is { } obj ? new PlannedWrite(key.Resource, KubeObjects.CloneObject(obj), Removed: true) : null)
                    .OfType<PlannedWrite>().ToList(), null),
                _ => { foreach (var key in chunk) _expiry.Retry(key, now); }));
    }
}
