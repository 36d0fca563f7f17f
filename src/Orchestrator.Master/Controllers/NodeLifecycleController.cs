using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>Node health timing (Kubernetes' node-monitor-grace-period and pod eviction timeout).</summary>
internal sealed record NodeLifecycleSettings(TimeSpan GracePeriod, TimeSpan MonitorPeriod, TimeSpan PodEvictionTimeout)
{
    public static NodeLifecycleSettings Default { get; } =
        new(TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5));
}

/// <summary>
/// Watches node heartbeats (Kubernetes' node lifecycle controller): a node that has neither renewed its Lease in
/// kube-node-lease nor posted a new Ready heartbeat for the grace period gets its conditions set to Unknown
/// ("Kubelet stopped posting node status.") and its pods
/// marked not Ready, so Services stop sending them traffic; pods of a node not Ready for longer than the eviction
/// timeout are deleted so their controllers recreate them elsewhere — unless no node at all is Ready, where
/// Kubernetes too stops evicting (full disruption). Writes node conditions and pod readiness; nothing else.
/// The Lease is renewed on every heartbeat while the Node status is written only when it changes or every few
/// minutes, so the Lease is what keeps a node alive (kube's tryUpdateNodeHealth). Like Kubernetes' nodeHealthMap, both
/// clocks run from what this controller has seen itself: a heartbeat or renewal counts as fresh when the controller first sees it (so a master that restarts after a long pause gives every node a full
/// grace period to report again, instead of judging heartbeats written before it started), and the eviction timeout
/// starts no earlier than the controller's first sighting of the node.
/// A renewal counts from when it arrives (a lease change reconciles its node at once), and each node is looked at again
/// when its grace period or eviction timeout runs out, not only on the next monitor pass: Kubernetes' nodeHealthMap
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

    /// <summary>What this controller last saw of a node's heartbeat and lease renewal, when it saw either change, and when
    /// it first saw the node.</summary>
    private sealed record Observed(DateTime? Heartbeat, DateTime? Renewed, DateTime ProbedAt, DateTime FirstSeen);

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
        if (resource == Nodes) Enqueue(ObjectCache.KeyOf(resource, (current ?? old)!));
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
            : new Observed(heartbeat, renewed, now, now);
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
        // when the grace period runs out unless the node reports before (its renewal reconciles it again and moves this)
        TimeSpan? next = ready?.Status != "Unknown" ? _settings.GracePeriod - silentFor : null;

        var notReadySince = ready?.LastTransitionTime ?? heartbeat;
        if (notReadySince < observed.FirstSeen) notReadySince = observed.FirstSeen;
        if (ready?.Status != "True")
        {
            var notReadyFor = now - notReadySince;
            if (notReadyFor <= _settings.PodEvictionTimeout) next = Earlier(next, _settings.PodEvictionTimeout - notReadyFor);
            else if (Cache.List<V1Node>(Nodes).Any(n => n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true))
                EvictPods(key.Name);
        }
        // Both limits are strict (older than), and a timer may fire a scheduler tick early or late: a little past the limit.
        if (next is { } wait) RequeueAfter(key, (wait > TimeSpan.Zero ? wait : TimeSpan.Zero) + DeadlineMargin);
    }

    private static readonly TimeSpan DeadlineMargin = TimeSpan.FromMilliseconds(20);

    private static TimeSpan Earlier(TimeSpan? a, TimeSpan b) => a is { } x && x < b ? x : b;

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

    private void EvictPods(string nodeName)
    {
        foreach (var pod in PodsOn(nodeName).Where(p => p.Metadata.DeletionTimestamp is null))
        {
            Log.Info("evicting pod {0}/{1} from unready node {2}", pod.Metadata.NamespaceProperty, pod.Metadata.Name, nodeName);
            SendAndForget(new DeleteObject(ObjectCache.KeyOf(Pods, pod), PreconditionUid: pod.Metadata.Uid));
        }
    }

    private IEnumerable<V1Pod> PodsOn(string nodeName) => Cache.List<V1Pod>(Pods).Where(p => p.Spec?.NodeName == nodeName);
}
