using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

/// <summary>How often the store snapshots and how many recent changes it keeps for watch replay.</summary>
internal sealed record ObjectStoreSettings(int SnapshotEvery = 1000, int WatchWindow = 10_000)
{
    public static ObjectStoreSettings Default { get; } = new();
}

/// <summary>
/// The ObjectStore owns every API object (persistenceId "object-store"). Every accepted write is one persisted
/// record (<see cref="ObjectPut"/>/<see cref="ObjectRemoved"/>) whose resourceVersion is the store's global
/// counter; recovery is the newest snapshot (every <see cref="ObjectStoreSettings.SnapshotEvery"/> records)
/// plus the records after it. Writes are planned by <see cref="WritePlanner"/> (validation, defaulting,
/// server-side fields, delete semantics) against the current state; a refused write persists nothing.
/// Watches replay from a bounded window (<see cref="ObjectStoreSettings.WatchWindow"/>; older is 410 Expired).
/// The store's share of deletion: Orphan strips ownerReferences from dependents, Foreground and finalizers only
/// mark the object, removing the last finalizer of a marked object deletes it, a pod is deleted gracefully
/// (<see cref="GracefulPodDeletion"/>), and deleting a namespace deletes everything in it. Cascading to
/// dependents is the garbage collector's job, filtering and paging of lists the API's.
/// Subscriptions live in memory: if the store ever restarted (a journal failure stops it), watchers would have to
/// watch again; planning errors are answered as 500 InternalError instead of restarting the actor for that reason.
/// </summary>
internal sealed class ObjectStore : ReceivePersistentActor
{
    public const string ActorName = "object-store";

    private readonly ObjectStoreSettings _settings;
    private readonly IResourceCatalog _catalog;
    private readonly StoreState _state = new();
    private readonly WatchHub _watch;
    private readonly WritePlanner _planner;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _recordsSinceSnapshot;

    public override string PersistenceId => "object-store";

    /// <summary>The store of the resources <paramref name="catalog"/> describes (the Registry's).</summary>
    public static Props Props(IResourceCatalog catalog, ObjectStoreSettings? settings = null) =>
        Akka.Actor.Props.Create(() => new ObjectStore(catalog, settings ?? ObjectStoreSettings.Default));

    public ObjectStore(IResourceCatalog catalog, ObjectStoreSettings settings)
    {
        _settings = settings;
        _catalog = catalog;
        _watch = new WatchHub(settings.WatchWindow);
        _planner = new WritePlanner(_state, catalog);

        Recover<SnapshotOffer>(offer => { if (offer.Snapshot is StoreSnapshot snapshot) LoadSnapshot(snapshot); });
        Recover<ObjectPut>(put => Apply(put, null));
        Recover<ObjectRemoved>(removed => Apply(removed, null));
        Recover<RecoveryCompleted>(_ => SeedDefaults());

        Command<CreateObject>(cmd => Reply(() => _planner.PlanCreate(cmd.Resource, cmd.Object), cmd.DryRun));
        Command<UpdateObject>(cmd => Reply(() => _planner.PlanUpdate(cmd.Resource, cmd.Object, cmd.Subresource), cmd.DryRun));
        Command<DeleteObject>(cmd => Reply(() => _planner.PlanDelete(cmd), cmd.DryRun));
        Command<GetObject>(Get);
        Command<ListObjects>(List);
        Command<WatchObjects>(StartWatch);
        Command<Unwatch>(u =>
        {
            if (_watch.Unsubscribe(u.Subscriber)) Context.Unwatch(u.Subscriber);
        });
        // Statements, not expressions: Command<T>(Func<T, bool>) treats false as unhandled, and an unhandled
        // Terminated (a subscriber already gone from the hub) is a DeathPactException that stops the whole store.
        Command<Terminated>(t => { _watch.Unsubscribe(t.ActorRef); });
        Command<WatcherTerminated>(t => { _watch.Unsubscribe(t.Subscriber); });
        Command<SaveSnapshotSuccess>(s =>
            DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot failed; recovery will replay more records"));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "Deleting old snapshots failed"));
    }

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
            : new ObjectsListed(_state.List(list.Resource, list.Namespace), _state.ResourceVersion));

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
        Sender.Tell(new WatchStarted(_state.ResourceVersion));
        if (_watch.Subscribe(watch.Resource, watch.Namespace, watch.FromResourceVersion, watch.Subscriber))
            // WatchWith names the subscriber in the message, so an ended watch is always handled (see above).
            Context.WatchWith(watch.Subscriber, new WatcherTerminated(watch.Subscriber));
    }

    private sealed record WatcherTerminated(IActorRef Subscriber);

    /// <summary>Persists a planned write (or answers with its error) and replies to the sender afterwards.</summary>
    private void Reply(Func<WritePlan> planner, bool dryRun)
    {
        var sender = Sender;
        WritePlan plan;
        try
        {
            plan = planner();
        }
        catch (Exception e)
        {
            // A bug in planning must not restart the store: a restart would silently drop every watch.
            _log.Error(e, "Planning a write failed");
            plan = WritePlan.Fail(new StoreError(500, "InternalError", $"Internal error occurred: {e.Message}"));
        }
        if (plan.Error is not null)
        {
            sender.Tell(new StoreFailed(plan.Error));
            return;
        }
        Commit(plan, dryRun, reply => sender.Tell(new ObjectStored(reply)));
    }

    /// <summary>
    /// Stamps each write with the next resourceVersion, persists them in order and applies each once stored.
    /// Persist stashes further commands until done, so versions are handed out strictly in sequence.
    /// </summary>
    private void Commit(WritePlan plan, bool dryRun, Action<IKubernetesObject<V1ObjectMeta>> then)
    {
        if (plan.Writes.Count == 0 || dryRun)
        {
            then(plan.Result!);
            return;
        }
        var rv = _state.ResourceVersion;
        var staged = new List<(IStoreRecord Record, IKubernetesObject<V1ObjectMeta> Object)>();
        foreach (var write in plan.Writes)
        {
            rv++;
            var obj = write.Object;
            obj.Metadata.ResourceVersion = rv.ToString();
            staged.Add(write.Removed
                ? (new ObjectRemoved(write.Resource, obj.Metadata.NamespaceProperty, obj.Metadata.Name, rv), obj)
                : (new ObjectPut(write.Resource, KubeObjects.Serialize(obj), rv), obj));
        }
        var applied = 0;
        var started = Diagnostics.MasterMetrics.StoreWriteStarted();
        PersistAll(staged.Select(s => s.Record), record =>
        {
            var (_, obj) = staged[applied++];
            Apply(record, obj);
            if (applied == staged.Count)
            {
                Diagnostics.MasterMetrics.StoreWriteDurable(started);
                then(plan.Result!);
                MaybeSnapshot();
            }
        });
    }

    /// <summary>Applies one persisted record to the state and the change feed (live and during recovery).</summary>
    private void Apply(IStoreRecord record, IKubernetesObject<V1ObjectMeta>? obj)
    {
        _recordsSinceSnapshot++;
        switch (record)
        {
            case ObjectPut put:
                obj ??= _catalog.Decode(put.Resource, put.Json);
                var previous = _state.Put(put.Resource, obj, put.ResourceVersion);
                _watch.Publish(new ObjectChanged(previous is null ? "ADDED" : "MODIFIED", put.Resource, obj, put.ResourceVersion));
                break;
            case ObjectRemoved removed:
                var gone = _state.Remove(removed.Resource, removed.Namespace, removed.Name, removed.ResourceVersion);
                if (gone is null) break;
                if (obj is null)
                {
                    obj = KubeObjects.CloneObject(gone);
                    obj.Metadata.ResourceVersion = removed.ResourceVersion.ToString();
                }
                _watch.Publish(new ObjectChanged("DELETED", removed.Resource, obj, removed.ResourceVersion));
                break;
        }
    }

    private void LoadSnapshot(StoreSnapshot snapshot)
    {
        _state.Clear();
        foreach (var o in snapshot.Objects)
            _state.Put(o.Resource, _catalog.Decode(o.Resource, o.Json), 0);
        _state.SetResourceVersion(snapshot.ResourceVersion);
        _watch.Reset(snapshot.ResourceVersion);
        _recordsSinceSnapshot = 0;
    }

    private void SeedPriorityClasses()
    {
        if (_catalog.Find("priorityclasses") is null) return;
        foreach (var pc in DefaultObjects.SystemPriorityClasses().Where(pc => _state.Get("priorityclasses", null, pc.Metadata.Name) is null))
        {
            var plan = _planner.PlanCreate("priorityclasses", pc);
            if (plan.Error is not null) _log.Warning("Could not create the priority class {0}: {1}", pc.Metadata.Name, plan.Error.Message);
            else Commit(plan, false, _ => { });
        }
    }

    private void MaybeSnapshot()
    {
        if (_recordsSinceSnapshot < _settings.SnapshotEvery) return;
        _recordsSinceSnapshot = 0;
        SaveSnapshot(new StoreSnapshot(
            _state.All().Select(x => new SnapshotObject(x.Resource, KubeObjects.Serialize(x.Object))).ToList(),
            _state.ResourceVersion));
    }

    /// <summary>
    /// The objects every cluster starts with, created (as ordinary persisted writes) only when absent. Runs
    /// before the first command: Persist stashes commands until these are stored. The namespaces go first
    /// because the kubernetes Service needs "default" to exist.
    /// </summary>
    private void SeedDefaults()
    {
        var namespaces = WritePlanner.Merge(DefaultObjects.Namespaces()
            .Where(ns => _state.Namespace(ns.Metadata.Name) is null)
            .Select(ns => _planner.PlanCreate("namespaces", ns)));
        Commit(namespaces, false, _ =>
        {
            SeedPriorityClasses();
            if (_state.Get("services", "default", "kubernetes") is not null) return;
            var service = _planner.PlanCreate("services", DefaultObjects.KubernetesService());
            if (service.Error is not null) _log.Warning("Could not create the kubernetes Service: {0}", service.Error.Message);
            else Commit(service, false, _ => { });
        });
    }
}
