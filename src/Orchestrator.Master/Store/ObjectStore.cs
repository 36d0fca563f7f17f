using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store.Encryption;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

/// <summary>
/// The ObjectStore owns every API object in memory and answers reads and watches from there; its child
/// <see cref="JournalWriter"/> makes writes durable. Every accepted write is one or more journal records whose
/// sequence numbers are the resourceVersions; a write is applied, published and acknowledged only once its
/// records are stored, and a refused write stores nothing. Reads never wait for writes.
///
/// Writes are committed in groups. Each is planned by <see cref="WritePlanner"/> when it arrives, one after another,
/// against the <see cref="PlanningState"/> — the stored state with the writes not yet durable laid over it — so
/// conflicts, resourceVersions and admission come out exactly as if they were stored one at a time. One batch is
/// with the journal writer at a time; the writes planned meanwhile (at most
/// <see cref="ObjectStoreSettings.MaxQueuedWrites"/>, beyond that 429) form the next batch, sent as one
/// <see cref="PersistRecords"/> — one journal transaction, one fsync — when the first is durable. Every answer of a
/// batch, refusals and no-op updates included (they were judged against writes not yet durable), is given once the
/// batch is durable, after its changes are applied and published.
///
/// The journal may fail (a full disk): the writes of the batch being stored are answered 500 and not applied, those
/// planned behind them and new ones get 503 at once, reads and watches go on from memory, /readyz turns false, and a new writer is started
/// with back-off. It replays whatever reached the journal after the store's resourceVersion, stores a probe record,
/// and the store takes writes again — no restart of the process, no watch dropped.
///
/// Objects larger than <see cref="ObjectStoreSettings.MaxObjectBytes"/> are refused. The journal writer's side
/// (recovery, failures, snapshots with compaction behind them) is in ObjectStore.Journal.cs; what the store does on
/// its own (default objects, event expiry, giving memory back after bursts) in ObjectStore.Housekeeping.cs.
/// </summary>
internal sealed partial class ObjectStore : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    public const string ActorName = "object-store";

    private readonly ObjectStoreSettings _settings;
    private readonly IResourceCatalog _catalog;
    private readonly StoreHealth _health;
    private readonly StorageTransformer _transformer;
    private readonly JournalDatabase? _file;
    private readonly StoreReadView _view;
    private readonly StoreState _state;
    private readonly PlanningState _planning;
    private readonly WatchHub _watch;
    private readonly WritePlanner _planner;
    private readonly EventExpiry _expiry;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private Batch? _inFlight;
    private Batch? _next;
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

    /// <summary>A store of the resources <paramref name="catalog"/> describes (the Registry's) on the actor system's
    /// default journal, objects stored as plain JSON.</summary>
    public static Props Props(IResourceCatalog catalog, ObjectStoreSettings? settings = null, StoreHealth? health = null,
        IReadOnlyList<IAdmissionPlugin>? admissions = null) =>
        Props(catalog, settings, health, StorageTransformer.Identity, null, admissions);

    /// <summary>A store whose journal is <paramref name="file"/> (compacted and shrunk there), objects stored
    /// through <paramref name="transformer"/>.</summary>
    public static Props Props(IResourceCatalog catalog, ObjectStoreSettings? settings, StoreHealth? health,
        StorageTransformer transformer, JournalDatabase? file, IReadOnlyList<IAdmissionPlugin>? admissions = null) =>
        Akka.Actor.Props.Create(() => new ObjectStore(catalog, settings ?? ObjectStoreSettings.Default, health ?? new StoreHealth(), transformer,
            file, admissions ?? Array.Empty<IAdmissionPlugin>()));

    public ObjectStore(IResourceCatalog catalog, ObjectStoreSettings settings, StoreHealth health, StorageTransformer transformer,
        JournalDatabase? file, IReadOnlyList<IAdmissionPlugin> admissions)
    {
        _catalog = catalog;
        _settings = settings;
        _health = health;
        _transformer = transformer;
        _file = file;
        _view = new StoreReadView(catalog);
        _state = new StoreState(_view);
        _watch = new WatchHub(settings.WatchWindow, settings.WatchWindowBytes, settings.WatchWindowMaxAge);
        _planning = new PlanningState(_state);
        _planner = new WritePlanner(_planning, catalog, admissions);
        _expiry = new EventExpiry(settings.EventTimeToLive);
        _backoff = settings.BackoffMin;
        Recovering();
    }

    protected override void PreStart()
    {
        _view.Register(Self);
        StartWriter();
        var shortest = Math.Min(_settings.EventTimeToLive.Ticks, _settings.WatchWindowMaxAge.Ticks);
        var sweep = TimeSpan.FromTicks(Math.Clamp(shortest / 10, TimeSpan.FromMilliseconds(250).Ticks, TimeSpan.FromSeconds(30).Ticks));
        Timers.StartPeriodicTimer("expire", Expiry.Instance, sweep);
    }

    protected override void PostStop() => _view.Unregister(Self);

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

    /// <summary>A write: planned when it arrives, against the <see cref="PlanningState"/> of that moment.</summary>
    private sealed record PendingWrite(Func<WritePlan> Plan, bool DryRun,
        Action<IKubernetesObject<V1ObjectMeta>?, AdmissionNotes?, byte[]?> Done, Action<StoreError> Failed);

    private sealed record Staged(IStoreRecord Record, IKubernetesObject<V1ObjectMeta> Object, int Bytes)
    {
        public string Resource => Record is ObjectPut put ? put.Resource : ((ObjectRemoved)Record).Resource;
        public long ResourceVersion => Record is ObjectPut put ? put.ResourceVersion : ((ObjectRemoved)Record).ResourceVersion;
    }

    /// <summary>A planned write's answer, given once the batch it was planned into is durable. <see cref="Started"/> is
    /// 0 for an answer that stores nothing. <see cref="ResultJson"/>: the result's journal text when it is one of the
    /// records.</summary>
    private sealed record Answer(PendingWrite Write, IKubernetesObject<V1ObjectMeta>? Result, AdmissionNotes? Notes, StoreError? Error,
        long Started, byte[]? ResultJson = null);

    /// <summary>Writes planned one after another and stored together: one <see cref="PersistRecords"/>.</summary>
    private sealed class Batch
    {
        public List<Staged> Records { get; } = [];
        public List<Answer> Answers { get; } = [];

        public Batch Add(Answer answer, IEnumerable<Staged> records)
        {
            Answers.Add(answer);
            Records.AddRange(records);
            return this;
        }
    }

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
        if (_inFlight is null) BecomeServing();
    }

    private void BecomeServing()
    {
        _serving = true;
        _view.Open();
        if (_writable) _health.Writable();
        Become(Serving);
        Stash.UnstashAll();
    }

    private void Serving()
    {
        JournalMessages();
        Receive<JournalWritable>(OnWritable);
        Receive<RecordsPersisted>(OnPersisted);
        // The writer is named now: the plan runs later, when Sender is someone else.
        Receive<CreateObject>(cmd =>
        {
            var manager = cmd.Manager ?? ControlPlaneManagers.Of(Sender);
            Request(() => _planner.PlanCreate(cmd.Resource, cmd.Object, manager, cmd.User, cmd.HandedOver, cmd.RequestApiVersion, cmd.UserInfo, cmd.DryRun), cmd.DryRun);
        });
        Receive<UpdateObject>(cmd =>
        {
            var manager = cmd.Manager ?? ControlPlaneManagers.Of(Sender);
            Request(() => _planner.PlanUpdate(cmd.Resource, cmd.Object, cmd.Subresource, manager, cmd.User, cmd.HandedOver, cmd.RequestApiVersion, cmd.UserInfo, cmd.DryRun), cmd.DryRun);
        });
        Receive<DeleteObject>(cmd => Request(() => _planner.PlanDelete(cmd), cmd.DryRun));
        Receive<WriteObjects>(cmd => RequestBatch(cmd, ControlPlaneManagers.Of(Sender)));
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
        Receive<WriteObjects>(w => Sender.Tell(new ObjectsWritten(w.Requests.Select(_ =>
            (object)new StoreFailed(StoreErrors.Unavailable($"the object store cannot read its journal: {_health.NotReadyReason}"))).ToList())));
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
        // the replicas of the other masters: a feed per replica, fed a snapshot and every change after it
        Receive<StartReplication>(_ => Context.ActorOf(ReplicationFeed.Props(Sender)));
        Receive<SnapshotState>(_ =>
        {
            Sender.Tell(new StateSnapshot(_state.All().ToList(), _state.ResourceVersion));
            if (_watch.Subscribe("*", null, null, Sender)) Context.WatchWith(Sender, new WatcherTerminated(Sender));
        });
        Receive<GetResourceVersion>(_ => Sender.Tell(new ResourceVersionIs(_state.ResourceVersion)));
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
        var resource = _catalog.Find(get.Key.Resource);
        var obj = resource is null ? null : _state.Get(get.Key);
        Sender.Tell(obj is not null
            ? new ObjectStored(obj)
            : new StoreFailed(resource is null ? StoreErrors.UnknownResource(get.Key.Resource) : StoreErrors.NotFound(resource, get.Key.Name)));
    }

    private void List(ListObjects list) =>
        Sender.Tell(_catalog.Find(list.Resource) is null
            ? new StoreFailed(StoreErrors.UnknownResource(list.Resource))
            : new ObjectsListed(_state.List(list.Resource, list.Namespace), _state.ResourceVersion)
            {
                Continues = list.Continuing is { } rest && rest.ResourceVersion <= _state.ResourceVersion
                    && _watch.UnchangedSince(list.Resource, list.Namespace, rest.ResourceVersion, rest.Start),
            });

    private void StartWatch(WatchObjects watch)
    {
        var error = watch.Resource != "*" && _catalog.Find(watch.Resource) is null
            ? StoreErrors.UnknownResource(watch.Resource)
            : _watch.CheckReplayable(watch.FromResourceVersion);
        if (error is not null)
        {
            Sender.Tell(new StoreFailed(error));
            return;
        }
        // The reply comes first, then the replayed changes, as the protocol promises.
        if (watch.Sink is { } sink) sink.TryWrite(new WatchStarted(_state.ResourceVersion)); // a new channel: never full
        else Sender.Tell(new WatchStarted(_state.ResourceVersion));
        if (_watch.Subscribe(watch.Resource, watch.Namespace, watch.FromResourceVersion, watch.Subscriber, watch.Batches, watch.Sink))
            Context.WatchWith(watch.Subscriber, new WatcherTerminated(watch.Subscriber));
    }

    // ---- writes ----

    private void Request(Func<WritePlan> plan, bool dryRun)
    {
        var sender = Sender;
        Write(new PendingWrite(plan, dryRun, (obj, notes, json) => sender.Tell(new ObjectStored(obj!, notes) { Json = json }),
            error => sender.Tell(new StoreFailed(error))));
    }

    /// <summary>A batch is one pending write: its requests are planned together when its turn comes, and those refused
    /// are answered with their own errors.</summary>
    private void RequestBatch(WriteObjects batch, FieldManager? manager)
    {
        var sender = Sender;
        var replies = new object?[batch.Requests.Count];
        IReadOnlyList<object> Answers(IKubernetesObject<V1ObjectMeta>? _) =>
            replies.Select(r => r ?? new StoreFailed(StoreErrors.WriteFailed("the batch was not stored"))).ToList();
        WritePlan PlanAll()
        {
            var plans = new List<(int Index, WritePlan Plan)>();
            var keys = new HashSet<(string, string?, string)>();
            for (var i = 0; i < batch.Requests.Count; i++)
            {
                var (resource, obj, plan) = batch.Requests[i] switch
                {
                    CreateObject c when !c.DryRun => (c.Resource, c.Object, (Func<WritePlan>)(() => _planner.PlanCreate(c.Resource, c.Object, c.Manager ?? manager, c.User, c.HandedOver, c.RequestApiVersion, c.UserInfo))),
                    UpdateObject u when !u.DryRun => (u.Resource, u.Object, () => _planner.PlanUpdate(u.Resource, u.Object, u.Subresource, u.Manager ?? manager, u.User, u.HandedOver, u.RequestApiVersion, u.UserInfo)),
                    var other => ("", null!, () => WritePlan.Fail(StoreErrors.BadRequest($"a batch takes creates and updates, not {other.GetType().Name}"))),
                };
                var planned = Plan(plan);
                // Each is planned against the state before the batch: two that write one object (the same lease, or
                // the same quota's usage) would overwrite each other, so the later one is refused.
                var written = planned.Writes.Select(w => (w.Resource, (string?)w.Object.Metadata.NamespaceProperty, w.Object.Metadata.Name ?? "")).ToList();
                if (planned.Error is null && written.Any(keys.Contains))
                    planned = WritePlan.Fail(new StoreError(409, "Conflict", $"{resource} \"{obj?.Metadata.Name}\": an earlier write of the same batch changes the same object"));
                if (planned.Error is not null) replies[i] = new StoreFailed(planned.Error);
                else
                {
                    keys.UnionWith(written);
                    plans.Add((i, planned));
                }
            }
            // The planned objects get their resourceVersions when staged; the answers hold the same instances.
            foreach (var (index, planned) in plans) replies[index] = new ObjectStored(planned.Result!, planned.Notes);
            return new WritePlan(plans.SelectMany(p => p.Plan.Writes).ToList(), null);
        }
        Write(new PendingWrite(PlanAll, false, (obj, _, _) => sender.Tell(new ObjectsWritten(Answers(obj))),
            error => sender.Tell(new ObjectsWritten(batch.Requests.Select((_, i) =>
                replies[i] is StoreFailed own ? own : (object)new StoreFailed(error)).ToList()))));
    }

    private void Write(PendingWrite write)
    {
        if (!_writable && !write.DryRun)
        {
            write.Failed(StoreErrors.Unavailable(UnavailableMessage));
            return;
        }
        if (_inFlight is not null && _next?.Answers.Count >= _settings.MaxQueuedWrites)
        {
            Diagnostics.MasterMetrics.StoreWriteThrottled();
            write.Failed(StoreErrors.TooManyRequests());
            return;
        }
        var (answer, staged) = Stage(write);
        if (_inFlight is null)
        {
            // Nothing else is on its way to the journal: what stores nothing is final now, the rest goes at once.
            if (staged.Count == 0) Give(answer);
            else Send(new Batch().Add(answer, staged));
            return;
        }
        (_next ??= new Batch()).Add(answer, staged);
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

    /// <summary>Plans the write and stamps the next resourceVersions on its records, which are laid over the planning
    /// state; a dry run stages nothing.</summary>
    private (Answer Answer, List<Staged> Records) Stage(PendingWrite write)
    {
        var plan = Plan(write.Plan);
        if (plan.Error is not null) return (new Answer(write, null, null, plan.Error, 0), []);
        if (plan.Writes.Count == 0 || write.DryRun) return (new Answer(write, plan.Result, plan.Notes, null, 0), []);
        var started = Diagnostics.MasterMetrics.StoreWriteStarted();
        var rv = _planning.ResourceVersion;
        var staged = new List<Staged>(plan.Writes.Count);
        byte[]? resultJson = null;
        foreach (var planned in plan.Writes)
        {
            var obj = planned.Object;
            obj.Metadata.ResourceVersion = (++rv).ToString();
            if (planned.Removed)
            {
                staged.Add(new Staged(new ObjectRemoved(planned.Resource, obj.Metadata.NamespaceProperty, obj.Metadata.Name, rv), obj, 0));
                continue;
            }
            var json = KubeObjects.SerializeToUtf8Bytes(obj);
            var bytes = json.Length;
            if (bytes > _settings.MaxObjectBytes) return (new Answer(write, null, null, StoreErrors.RequestTooLarge(), 0), []);
            staged.Add(new Staged(new ObjectPut(planned.Resource, json, rv), obj, bytes));
            if (ReferenceEquals(obj, plan.Result)) resultJson = json;
        }
        foreach (var s in staged) _planning.Planned(s.Resource, s.Object, s.Record is ObjectRemoved, s.ResourceVersion);
        return (new Answer(write, plan.Result, plan.Notes, null, started, resultJson), staged);
    }

    private void Send(Batch batch)
    {
        _inFlight = batch;
        Diagnostics.MasterMetrics.StoreJournalWrite(batch.Records.Count);
        _writer!.Tell(new PersistRecords(batch.Records.Select(s => s.Record).ToList()));
    }

    private static void Give(Answer answer)
    {
        if (answer.Error is not null)
        {
            answer.Write.Failed(answer.Error);
            return;
        }
        if (answer.Started != 0) Diagnostics.MasterMetrics.StoreWriteDurable(answer.Started);
        answer.Write.Done(answer.Result, answer.Notes, answer.ResultJson);
    }

    private void OnPersisted(RecordsPersisted persisted)
    {
        if (_inFlight is not { } batch)
        {
            _log.Warning("The journal stored records the store did not send (sequence number {0})", persisted.LastSequenceNr);
            return;
        }
        _inFlight = null;
        // The commit's changes go to each watcher together (before the writers' answers, as one at a time did).
        _watch.Hold();
        foreach (var s in batch.Records)
        {
            Apply(s.Record, s.Object, s.Bytes, live: true);
            _planning.Stored(s.Resource, s.Object.Metadata.NamespaceProperty, s.Object.Metadata.Name, s.ResourceVersion);
        }
        _watch.Deliver();
        _state.AdvanceTo(persisted.LastSequenceNr);
        foreach (var answer in batch.Answers) Give(answer);
        // The snapshot goes to the writer before the next batch, so it describes exactly the journal's end.
        MaybeSnapshot();
        if (_next is not { } next) return;
        _next = null;
        if (next.Records.Count > 0) Send(next);
        else foreach (var answer in next.Answers) Give(answer);
    }

    /// <summary>Applies one stored record to the state and the change feed (live, and when reading the journal).</summary>
    private void Apply(IStoreRecord record, IKubernetesObject<V1ObjectMeta>? obj, int bytes, bool live)
    {
        _recordsSinceSnapshot++;
        switch (record)
        {
            case ObjectPut put:
                obj ??= _catalog.Decode(put.Resource, put.Json);
                if (bytes == 0) bytes = put.Json.Length;
                _bytesSinceSnapshot += bytes;
                var previous = _state.Put(put.Resource, obj, put.ResourceVersion, bytes);
                if (EventExpiry.Expires(put.Resource))
                {
                    if (live) _expiry.Written(put.Resource, obj, DateTime.UtcNow);
                    else _expiry.Recovered(put.Resource, obj, DateTime.UtcNow);
                }
                _watch.Publish(new ObjectChanged(previous is null ? "ADDED" : "MODIFIED", put.Resource, obj, put.ResourceVersion)
                    { Json = put.Json }, bytes);
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

}
