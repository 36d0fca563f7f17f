using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>Node health timing (Kubernetes' --node-monitor-grace-period and --node-monitor-period). How long a NotReady
/// node's pods stay is their tolerations' business (the DefaultTolerationSeconds admission plugin, the taint eviction
/// controller).</summary>
internal sealed record NodeLifecycleSettings(TimeSpan GracePeriod, TimeSpan MonitorPeriod)
{
    public static NodeLifecycleSettings Default { get; } = new(TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(5));
}

/// <summary>
/// Watches node heartbeats (Kubernetes' node lifecycle controller): a node that has neither renewed its Lease in
/// kube-node-lease nor posted a new Ready heartbeat for the grace period gets its conditions set to Unknown
/// ("Kubelet stopped posting node status.") and its pods marked not Ready, so Services stop sending them traffic.
/// It keeps the node's taints in line with its conditions (<see cref="NodeConditionTaints"/>): the NoSchedule ones of
/// TaintNodesByCondition and cordoning, and node.kubernetes.io/not-ready or /unreachable:NoExecute while the node is
/// NotReady — unless no node at all is Ready, where Kubernetes too takes the NoExecute taints off every node (full
/// disruption). The <see cref="TaintEvictionController"/> evicts the pods those taints are not tolerated by.
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

    /// <summary>What this controller last saw of a node's heartbeat and lease renewal, and when it saw either change.</summary>
    private sealed record Observed(DateTime? Heartbeat, DateTime? Renewed, DateTime ProbedAt);

    public NodeLifecycleController(IActorRef store, NodeLifecycleSettings settings, Func<DateTime>? clock = null)
        : base(store, [Nodes, Pods, NodeLeases.Resource], settings.MonitorPeriod)
    {
        _settings = settings;
        _clock = clock ?? (() => DateTime.UtcNow);
        _events = new EventRecorder(store, Component);
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
            // the first node Ready, or the last one gone: every node's NoExecute taints change (full disruption)
            if (IsReady(old as V1Node) != IsReady(current as V1Node))
                foreach (var key in Cache.Keys(Nodes)) Enqueue(key);
        }
        // a renewal is the node's heartbeat: seen now, it is stamped now, not at the next monitor pass
        else if (resource == NodeLeases.Resource && current?.Metadata.NamespaceProperty == NodeLeases.Namespace)
            Enqueue(new ResourceKey(Nodes, null, current.Metadata.Name));
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

    private static bool IsReady(V1Node? node) =>
        node?.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>Writes the node's controller-owned taints where they differ from what its conditions and cordon call for
    /// (kube's doNoScheduleTaintingPass and the NoExecute tainting); taints that stay keep their timeAdded, new ones are
    /// stamped now. With the cached resourceVersion: a write that lands first wins, and its change reconciles again.</summary>
    private void SyncTaints(V1Node node, DateTime now)
    {
        var desired = NodeConditionTaints.Desired(node, evictionsAllowed: Cache.List<V1Node>(Nodes).Any(IsReady));
        var current = node.Spec?.Taints ?? [];
        var kept = current.Where(t => !NodeConditionTaints.IsManaged(t) || desired.Any(d => Tolerations.SameKeyAndEffect(d, t))).ToList();
        var added = desired.Where(d => !current.Any(t => Tolerations.SameKeyAndEffect(d, t))).ToList();
        if (added.Count == 0 && kept.Count == current.Count) return;
        foreach (var taint in added) taint.TimeAdded = now;
        var updated = KubeObjects.Clone(node);
        updated.Spec ??= new V1NodeSpec();
        updated.Spec.Taints = kept.Count + added.Count == 0 ? null : kept.Concat(added).ToList();
        Log.Info("node {0}: taints {1}", node.Metadata.Name,
            string.Join(", ", updated.Spec.Taints?.Select(t => $"{t.Key}:{t.Effect}") ?? []));
        SendAndForget(new UpdateObject(Nodes, updated));
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
