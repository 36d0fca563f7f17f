using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Controllers.NodeLifecycle;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>Node health timing (Kubernetes' --node-monitor-grace-period and --node-monitor-period). How long a NotReady
/// node's pods stay is their tolerations' business (the DefaultTolerationSeconds admission plugin, the taint eviction
/// controller).</summary>
internal sealed record NodeLifecycleSettings(TimeSpan GracePeriod, TimeSpan MonitorPeriod)
{
    public static NodeLifecycleSettings Default { get; } = new(TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(5));

    /// <summary>The rates NotReady nodes are tainted NoExecute at, per zone (--node-eviction-rate and its friends).</summary>
    public NodeEvictionSettings Eviction { get; init; } = NodeEvictionSettings.Default;
}

/// <summary>
/// Watches node heartbeats (Kubernetes' node lifecycle controller): a node that has neither renewed its Lease in
/// kube-node-lease nor posted a new Ready heartbeat for the grace period gets its conditions set to Unknown
/// ("Kubelet stopped posting node status.") and its pods marked not Ready, so Services stop sending them traffic.
/// It keeps the node's taints in line with its conditions (<see cref="NodeConditionTaints"/>): the NoSchedule ones of
/// TaintNodesByCondition and cordoning at once, and node.kubernetes.io/not-ready or /unreachable:NoExecute on a NotReady
/// node through its zone's rate-limited queue (<see cref="ZoneTainting"/>: --node-eviction-rate, 0.1 nodes a second, the
/// first at once; slower or stopped in a partially disrupted zone; none while every zone is fully disrupted, where the
/// taints come off every node). A node that has the other of the two is switched at once, and a node Ready again loses
/// them at once, as kube's processTaintBaseEviction. The <see cref="TaintEvictionController"/> evicts the pods those taints
/// are not tolerated by.
/// Writes node conditions, the taints it owns (never a user's) and pod readiness; nothing else.
/// The Lease is renewed on every heartbeat while the Node status is written only when it changes or every few
/// minutes, so the Lease is what keeps a node alive (kube's tryUpdateNodeHealth). Like Kubernetes' nodeHealthMap, the
/// clock runs from what this controller has seen itself: a heartbeat or renewal counts as fresh when the controller
/// first sees it (so a master that restarts after a long pause gives every node a full grace period to report again,
/// instead of judging heartbeats written before it started).
/// A renewal counts from when it arrives (a lease change reconciles its node at once), and each node is looked at again
/// when its grace period runs out, not only on the next monitor pass: Kubernetes' nodeHealthMap
/// stamps a renewal when the periodic pass sees it and judges it on a later pass, so a node turned NotReady up to two
/// monitor periods after the grace period (here 15.2-16.4 s after the last renewal with a 15 s grace period and a 1 s
/// period, 40-50 s with the defaults). The monitor pass stays as the backstop.
/// </summary>
internal sealed class NodeLifecycleController : ControllerActor
{
    public const string Component = "node-controller";
    private const string Nodes = "nodes";
    private const string Pods = "pods";
    private static readonly string[] MonitoredConditions = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

    private readonly NodeLifecycleSettings _settings;
    private readonly Func<DateTime> _clock;
    private readonly EventRecorder _events;
    private readonly Dictionary<string, Observed> _observed = new();
    private readonly ZoneTainting _zones;
    // the zones' states are judged again on the next tainting pass (a node's readiness, zone or count changed)
    private bool _zonesChanged = true;
    private bool _passScheduled;
    // nodes the queue let through whose taint write conflicted (the cache was behind): written again with the newer node,
    // without waiting for another token, as kube's SwapNodeControllerTaint retries a conflict with the node read again
    private readonly HashSet<string> _taintRetries = new(StringComparer.Ordinal);

    /// <summary>kube's doNoExecuteTaintingPass, run when a node is queued, when a zone's next token is due, and after
    /// every change that may move a zone's state.</summary>
    private sealed record TaintingPass
    {
        public static readonly TaintingPass Instance = new();
    }

    private sealed record TaintWritten(string Node, string Zone);

    /// <summary>What this controller last saw of a node's heartbeat and lease renewal, and when it saw either change.</summary>
    private sealed record Observed(DateTime? Heartbeat, DateTime? Renewed, DateTime ProbedAt);

    public NodeLifecycleController(IActorRef store, NodeLifecycleSettings settings, Func<DateTime>? clock = null)
        : base(store, [Nodes, Pods, NodeLeases.Resource], settings.MonitorPeriod)
    {
        _settings = settings;
        _clock = clock ?? (() => DateTime.UtcNow);
        _events = new EventRecorder(store, Component);
        _zones = new ZoneTainting(settings.Eviction, _clock);
        Receive<TaintingPass>(_ => RunTaintingPass());
    }

    public static Props Props(IActorRef store, NodeLifecycleSettings? settings = null, Func<DateTime>? clock = null) =>
        Akka.Actor.Props.Create(() => new NodeLifecycleController(store, settings ?? NodeLifecycleSettings.Default, clock));

    // The monitor period is the resync period: every node is looked at on every tick.
    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Nodes);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == Nodes)
        {
            Enqueue(ObjectCache.KeyOf(resource, (current ?? old)!));
            V1Node? before = old as V1Node, after = current as V1Node;
            // a node added or gone, its readiness, zone or exclusion changed: the zones' states may change
            if (before is null || after is null || ReadyStatus(before) != ReadyStatus(after) ||
                ZoneTainting.ZoneKey(before) != ZoneTainting.ZoneKey(after) || Excluded(before) != Excluded(after))
            {
                if (before is not null && (after is null || ZoneTainting.ZoneKey(before) != ZoneTainting.ZoneKey(after)))
                    _zones.MarkReachable(ZoneTainting.ZoneKey(before), before.Metadata.Name); // not waiting in its old zone
                _zonesChanged = true;
                SchedulePass();
            }
        }
        // a renewal is the node's heartbeat: seen now, it is stamped now, not at the next monitor pass
        else if (resource == NodeLeases.Resource && current?.Metadata.NamespaceProperty == NodeLeases.Namespace)
            Enqueue(new ResourceKey(Nodes, null, current.Metadata.Name));
    }

    // every monitor period the zones are judged again, as kube's monitorNodeHealth ends with handleDisruption
    protected override void OnResync()
    {
        _zonesChanged = true;
        SchedulePass();
    }

    protected override void Reconcile(ResourceKey key)
    {
        var node = Cache.Get<V1Node>(key.Resource, key.Namespace, key.Name);
        if (node is null)
        {
            _observed.Remove(key.Name);
            return;
        }
        var now = _clock();
        var ready = node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        var heartbeat = ready?.LastHeartbeatTime ?? node.Metadata.CreationTimestamp ?? now;
        var renewed = NodeLeases.RenewTime(Cache.Get<V1Lease>(NodeLeases.Resource, NodeLeases.Namespace, key.Name));
        var observed = _observed.TryGetValue(key.Name, out var seen)
            ? seen.Heartbeat == heartbeat && !(renewed > seen.Renewed || (renewed is not null && seen.Renewed is null))
                ? seen
                : seen with { Heartbeat = heartbeat, Renewed = renewed, ProbedAt = now }
            : new Observed(heartbeat, renewed, now);
        _observed[key.Name] = observed;
        // the heartbeat's or renewal's own time counts only once it is older than when we saw it (a node that never
        // reported since its creation long ago still ages from our first sighting)
        var latest = renewed > heartbeat ? renewed.Value : heartbeat;
        var silentFor = now - (latest > observed.ProbedAt ? latest : observed.ProbedAt);

        if (silentFor > _settings.GracePeriod && ready?.Status != "Unknown")
        {
            Log.Info("node {0} stopped posting status (last heartbeat {1:O}, lease renewed {2:O}, silent {3:F1} s)",
                key.Name, heartbeat, renewed, silentFor.TotalSeconds);
            MarkUnknown(node, ready is null, now);
            MarkPodsNotReady(key.Name, now);
            _events.Record(node, EventRecorder.Normal, "NodeNotReady", $"Node {key.Name} status is now: NodeNotReady", Self);
            return;
        }
        SyncTaints(node, now);
        // when the grace period runs out unless the node reports before (its renewal reconciles it again and moves this);
        // the limit is strict (older than), and a timer may fire a scheduler tick early or late: a little past it
        if (ready?.Status != "Unknown")
            RequeueAfter(key, (_settings.GracePeriod - silentFor > TimeSpan.Zero ? _settings.GracePeriod - silentFor : TimeSpan.Zero) + DeadlineMargin);
    }

    private static string? ReadyStatus(V1Node? node) => node?.Status?.Conditions?.FirstOrDefault(c => c?.Type == "Ready")?.Status;

    private static bool Excluded(V1Node node) => node.Metadata.Labels?.ContainsKey(ZoneTainting.ExcludeDisruptionLabel) == true;

    /// <summary>Writes the node's controller-owned taints where they differ from what its conditions and cordon call for
    /// (kube's doNoScheduleTaintingPass) and does kube's processTaintBaseEviction: a NotReady node keeps the NoExecute
    /// taint its status calls for, has the other one switched at once, or is queued in its zone for it; a Ready node
    /// loses both and leaves the queue; while every zone is fully disrupted no node has one.</summary>
    private void SyncTaints(V1Node node, DateTime now)
    {
        var name = node.Metadata.Name;
        var zone = ZoneTainting.ZoneKey(node);
        var status = ReadyStatus(node);
        var wanted = NodeConditionTaints.NoExecuteFor(status);
        string? noExecute = null;
        var retry = _taintRetries.Remove(name);
        if (status == "True") _zones.MarkReachable(zone, name);
        else if (wanted is not null && !_zones.InFullDisruptionMode)
        {
            var opposite = wanted == NodeConditionTaints.NotReady ? NodeConditionTaints.Unreachable : NodeConditionTaints.NotReady;
            var tainted = NodeConditionTaints.Has(node, wanted, Tolerations.NoExecute);
            if (tainted || retry || NodeConditionTaints.Has(node, opposite, Tolerations.NoExecute)) noExecute = wanted;
            else if (_zones.MarkForTainting(zone, name, tainted))
            {
                Log.Info("node {0} is {1}: queued for its {2}:NoExecute taint", name, status, wanted);
                // its turn may be now (the zone's first): then the taint goes in this write, with the NoSchedule one
                if (TakesTurnNow(name)) noExecute = wanted;
                SchedulePass();
            }
        }
        else if (status is null)
            noExecute = NoExecuteTaintOf(node); // kube leaves the eviction taints of a node without a Ready condition alone
        WriteTaints(node, NodeConditionTaints.Desired(node, noExecute), now);
    }

    private static string? NoExecuteTaintOf(V1Node node) =>
        node.Spec?.Taints?.FirstOrDefault(t => t?.Effect == Tolerations.NoExecute && t.Key is NodeConditionTaints.NotReady or NodeConditionTaints.Unreachable)?.Key;

    /// <summary>Writes the controller's taints as <paramref name="desired"/> has them; taints that stay keep their timeAdded,
    /// new ones are stamped now. With the cached resourceVersion: a write that lands first wins, and its change reconciles
    /// again. False when nothing needed writing.</summary>
    private bool WriteTaints(V1Node node, List<V1Taint> desired, DateTime now, object? tag = null)
    {
        var current = node.Spec?.Taints ?? [];
        var kept = current.Where(t => !NodeConditionTaints.IsManaged(t) || desired.Any(d => Tolerations.SameKeyAndEffect(d, t))).ToList();
        var added = desired.Where(d => !current.Any(t => Tolerations.SameKeyAndEffect(d, t))).ToList();
        if (added.Count == 0 && kept.Count == current.Count) return false;
        foreach (var taint in added) taint.TimeAdded = now;
        var updated = KubeObjects.Clone(node);
        updated.Spec ??= new V1NodeSpec();
        updated.Spec.Taints = kept.Count + added.Count == 0 ? null : kept.Concat(added).ToList();
        Log.Info("node {0}: taints {1}", node.Metadata.Name,
            string.Join(", ", updated.Spec.Taints?.Select(t => $"{t.Key}:{t.Effect}") ?? []));
        if (tag is null) SendAndForget(new UpdateObject(Nodes, updated));
        else Send(new UpdateObject(Nodes, updated), tag);
        return true;
    }

    /// <summary>A tainting pass run here: true when the zones (judged again first if something changed) let
    /// <paramref name="name"/> through now; other nodes let through are tainted as in any pass.</summary>
    private bool TakesTurnNow(string name)
    {
        if (_zonesChanged) HandleDisruption();
        if (_zones.InFullDisruptionMode) return false;
        var through = false;
        _zones.Try(queued =>
        {
            if (queued != name) return TaintNow(queued);
            through = true;
            return (true, TimeSpan.Zero);
        });
        return through;
    }

    private void SchedulePass()
    {
        if (_passScheduled) return;
        _passScheduled = true;
        Self.Tell(TaintingPass.Instance);
    }

    /// <summary>The zones judged again when something changed (kube's handleDisruption), then each zone's queue gives the
    /// nodes its rate lets through their NoExecute taint; the next pass is timed for the next token.</summary>
    private void RunTaintingPass()
    {
        _passScheduled = false;
        Timers.Cancel(nameof(TaintingPass));
        if (_zonesChanged) HandleDisruption();
        _zones.Try(TaintNow);
        if (_zones.NextTry() is { } next)
        {
            var wait = next - _clock();
            Timers.StartSingleTimer(nameof(TaintingPass), TaintingPass.Instance, (wait > TimeSpan.Zero ? wait : TimeSpan.Zero) + DeadlineMargin);
        }
    }

    private void HandleDisruption()
    {
        _zonesChanged = false;
        var zones = new Dictionary<string, List<string?>>(StringComparer.Ordinal);
        foreach (var node in Cache.List<V1Node>(Nodes).Where(n => !Excluded(n)))
        {
            var zone = ZoneTainting.ZoneKey(node);
            if (!zones.TryGetValue(zone, out var statuses)) zones[zone] = statuses = new List<string?>();
            statuses.Add(ReadyStatus(node));
        }
        var before = _zones.States.ToDictionary(z => z.Key, z => z.Value);
        var change = _zones.HandleDisruption(zones);
        foreach (var (zone, state) in _zones.States)
            if (before.GetValueOrDefault(zone) != state)
                Log.Info("zone {0} is now in state {1}", zone.Length == 0 ? "(none)" : zone.Replace("\0", ""), state);
        if (change == DisruptionChange.None) return;
        if (change == DisruptionChange.EnteredFullDisruption)
            Log.Warning("every node is NotReady: entering master disruption mode (no NoExecute taints, no evictions)");
        else
        {
            Log.Info("some nodes are Ready: exiting master disruption mode");
            // kube's exit: every node gets a full grace period from now
            var now = _clock();
            foreach (var name in _observed.Keys.ToList()) _observed[name] = _observed[name] with { ProbedAt = now };
        }
        // every node's NoExecute taints change: off on entering; queued again on leaving
        foreach (var key in Cache.Keys(Nodes)) Enqueue(key);
    }

    /// <summary>One node out of its zone's queue (kube's doNoExecuteTaintingPass function): tainted as its Ready status says
    /// now, unless it is gone or Ready again.</summary>
    private (bool Done, TimeSpan Retry) TaintNow(string name)
    {
        var node = Cache.Get<V1Node>(Nodes, null, name);
        if (node is null) return (true, TimeSpan.Zero);
        var status = ReadyStatus(node);
        if (status is null) return (false, TimeSpan.FromMilliseconds(50));
        if (NodeConditionTaints.NoExecuteFor(status) is not { } wanted) return (true, TimeSpan.Zero); // Ready again
        Log.Info("node {0}: tainting {1}:NoExecute", name, wanted);
        WriteTaints(node, NodeConditionTaints.Desired(node, wanted), _clock(), new TaintWritten(name, ZoneTainting.ZoneKey(node)));
        return (true, TimeSpan.Zero);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is not TaintWritten written)
        {
            base.OnStoreReplied(reply);
            return;
        }
        if (reply.Succeeded) return;
        Log.Debug("taint of node {0} refused: {1} {2}", written.Node, reply.Failed!.Error.Code, reply.Failed.Error.Message);
        if (reply.Failed.Error.Code == 409) _taintRetries.Add(written.Node); // written again with the newer node
        else _zones.MarkReachable(written.Zone, written.Node); // gone, or refused: queued again when looked at next
        Enqueue(new ResourceKey(Nodes, null, written.Node));
    }

    private static readonly TimeSpan DeadlineMargin = TimeSpan.FromMilliseconds(20);

    private void MarkUnknown(V1Node node, bool neverReported, DateTime now)
    {
        var updated = KubeObjects.Clone(node);
        updated.Status ??= new V1NodeStatus();
        updated.Status.Conditions ??= new List<V1NodeCondition>();
        if (neverReported)
            updated.Status.Conditions.Add(new V1NodeCondition
            {
                Type = "Ready", Status = "Unknown", Reason = "NodeStatusNeverUpdated", Message = "Kubelet never posted node status.",
                LastHeartbeatTime = node.Metadata.CreationTimestamp, LastTransitionTime = now,
            });
        foreach (var condition in updated.Status.Conditions.Where(c => MonitoredConditions.Contains(c.Type) && c.Status != "Unknown"))
        {
            condition.Status = "Unknown";
            condition.Reason = "NodeStatusUnknown";
            condition.Message = "Kubelet stopped posting node status.";
            condition.LastTransitionTime = now;
        }
        // With the cached resourceVersion: a heartbeat that lands first wins, and the next tick looks again.
        SendAndForget(new UpdateObject(Nodes, updated, "status"));
    }

    private void MarkPodsNotReady(string nodeName, DateTime now)
    {
        foreach (var pod in PodsOn(nodeName).Where(PodFacts.IsReady))
        {
            var updated = KubeObjects.Clone(pod);
            foreach (var condition in updated.Status.Conditions.Where(c => c.Type is "Ready" or "ContainersReady"))
            {
                condition.Status = "False";
                condition.LastTransitionTime = now;
            }
            SendAndForget(new UpdateObject(Pods, updated, "status"));
        }
    }

    private IEnumerable<V1Pod> PodsOn(string nodeName) => Cache.List<V1Pod>(Pods).Where(p => p.Spec?.NodeName == nodeName);
}
