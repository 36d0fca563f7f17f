using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.ControlLoop;

/// <summary>
/// The shape every control loop shares, in the manner of client-go informers and work queues: one
/// <see cref="ResourceReflector"/> child per watched resource feeds a local <see cref="ObjectCache"/>; changes
/// mark keys dirty; the mailbox is the work queue (a <see cref="DrainQueue"/> message reconciles each dirty key
/// once, however many changes woke it, in the order they were first marked, as client-go's FIFO work queue; a
/// controller may take them a slice per message, <see cref="DrainSlice"/>); a periodic resync and per-key requeue
/// timers catch whatever a change did not. Nothing is reconciled until every watched resource has been listed once,
/// so a controller never acts on a half-filled cache. Subclasses decide which keys a change affects and how a key is reconciled.
/// </summary>
internal abstract class ControllerActor : ReceiveActor, IWithTimers
{
    private readonly List<string> _watched;
    private readonly HashSet<string> _unsynced;
    private readonly HashSet<ResourceKey> _dirty = new();
    private readonly Queue<ResourceKey> _order = new(); // the dirty keys, first marked first
    private readonly TimeSpan _resync;
    private bool _drainScheduled;

    protected IActorRef Store { get; }
    protected ObjectCache Cache { get; } = new();
    protected ILoggingAdapter Log { get; } = Context.GetLogger();
    protected bool Synced => _unsynced.Count == 0;
    public ITimerScheduler Timers { get; set; } = null!;

    protected ControllerActor(IActorRef store, IReadOnlyList<string> watched, TimeSpan resync)
    {
        Store = store;
        _watched = watched.ToList();
        _unsynced = new HashSet<string>(watched);
        _resync = resync;

        Receive<ResourceListed>(listed =>
        {
            Cache.Replace(listed.Resource, listed.Items, listed.ResourceVersion);
            var firstSync = _unsynced.Remove(listed.Resource) && Synced;
            if (Synced)
            {
                if (firstSync) OnSynced();
                EnqueueAll();
            }
        });
        Receive<ObjectChanged>(change =>
        {
            var old = Cache.Apply(change, out var applied);
            if (!applied || !Synced) return;
            OnChanged(change.Resource, old, change.Type == "DELETED" ? null : change.Object);
        });
        Receive<DrainQueue>(_ => Drain());
        Receive<RequeueKey>(r => Enqueue(r.Key));
        Receive<ResyncAll>(_ =>
        {
            if (!Synced) return;
            OnResync();
            EnqueueAll();
        });
        Receive<StoreReplied>(OnStoreReplied);
        // Replies to fire-and-forget writes: nothing to do on success; failures only matter to the log.
        Receive<ObjectStored>(_ => { });
        Receive<StoreFailed>(f =>
        {
            // Conflicts and vanished objects are routine (the feed brings the newer state); anything else is a bug.
            if (f.Error.Code is 409 or 404) Log.Debug("store refused a write: {0} {1}", f.Error.Code, f.Error.Message);
            else Log.Warning("store refused a write: {0} {1} {2}", f.Error.Code, f.Error.Reason, f.Error.Message);
        });
    }

    protected override void PreStart()
    {
        foreach (var resource in _watched)
            Context.ActorOf(ResourceReflector.Props(Store, resource, Self), "reflect-" + resource);
        if (_resync > TimeSpan.Zero) Timers.StartPeriodicTimer(ResyncAll.Instance, ResyncAll.Instance, _resync);
    }

    /// <summary>Starts watching one more resource (one a controller learns it needs at run time, as the quota
    /// controller does from a quota's count/&lt;resource&gt; names); nothing is reconciled until it is listed.</summary>
    protected bool IsWatched(string resource) => _watched.Contains(resource);

    protected void Watch(string resource)
    {
        if (_watched.Contains(resource)) return;
        _watched.Add(resource);
        _unsynced.Add(resource);
        Context.ActorOf(ResourceReflector.Props(Store, resource, Self), "reflect-" + Uri.EscapeDataString(resource));
    }

    /// <summary>Marks a key for reconciliation; reconciles happen after the messages already queued.</summary>
    protected void Enqueue(ResourceKey key)
    {
        if (_dirty.Add(key)) _order.Enqueue(key);
        Diagnostics.MasterMetrics.Enqueued(Self.Path.Name, _dirty.Count);
        if (_drainScheduled) return;
        _drainScheduled = true;
        Self.Tell(DrainQueue.Instance);
    }

    /// <summary>Reconciles the key again after a delay (a write conflicted, an expectation is pending, …).</summary>
    protected void RequeueAfter(ResourceKey key, TimeSpan delay) =>
        Timers.StartSingleTimer(("requeue", key), new RequeueKey(key), delay);

    /// <summary>Sends a request to the store; the answer comes back to <see cref="OnStoreReplied"/> with the tag.</summary>
    protected void Send(object request, object tag) => StoreCall.Send(Context, Store, request, tag);

    /// <summary>Sends a request whose answer does not matter (replies are dropped).</summary>
    protected void SendAndForget(object request) => Store.Tell(request, Self);

    /// <summary>The most keys one <see cref="DrainQueue"/> message reconciles; the rest wait for the next, behind the
    /// messages that came meanwhile (store replies, timers). Unbounded by default: a controller whose reconciles send
    /// work on that their replies continue (the scheduler's bindings) bounds it, so a long queue is not reconciled in
    /// one message while those replies wait.</summary>
    protected virtual int DrainSlice => int.MaxValue;

    private void Drain()
    {
        _drainScheduled = false;
        var keys = new List<ResourceKey>(Math.Min(_order.Count, DrainSlice));
        while (keys.Count < DrainSlice && _order.TryDequeue(out var next))
        {
            _dirty.Remove(next);
            keys.Add(next);
        }
        Diagnostics.MasterMetrics.Drained(Self.Path.Name, _order.Count);
        foreach (var key in keys)
        {
            try
            {
                Reconcile(key);
            }
            catch (Exception e)
            {
                // A bug or bad object must not stop the loop for every other key: log, back off, try again.
                Log.Error(e, "reconcile of {0} failed", key);
                RequeueAfter(key, TimeSpan.FromSeconds(5));
            }
        }
        // the rest of the queue after what the slice's reconciles sent to this actor
        if (_order.Count > 0 && !_drainScheduled)
        {
            _drainScheduled = true;
            Self.Tell(DrainQueue.Instance);
        }
    }

    private void EnqueueAll()
    {
        foreach (var key in AllKeys()) Enqueue(key);
    }

    /// <summary>The keys a resync reconciles: usually every cached object of the controller's primary resource.</summary>
    protected abstract IEnumerable<ResourceKey> AllKeys();

    /// <summary>One change of a watched resource (current null when deleted): enqueue the keys it affects.</summary>
    protected abstract void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current);

    /// <summary>Converges one key: reads desired and observed state from the cache and writes the difference.
    /// Must be idempotent and safe to run at any time.</summary>
    protected abstract void Reconcile(ResourceKey key);

    protected virtual void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Failed is { } f && f.Error.Code != 409 && f.Error.Code != 404)
            Log.Warning("store refused {0}: {1} {2}", reply.Request.GetType().Name, f.Error.Code, f.Error.Message);
    }

    protected virtual void OnSynced() { }

    protected virtual void OnResync() { }
}
