using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Scheduling.Filters;
using Orchestrator.Master.Scheduling.Framework;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Scheduling;

/// <summary>
/// The default-scheduler: binds each pod without spec.nodeName (and with no other schedulerName) to a node
/// chosen by <see cref="SchedulingAlgorithm"/>, then marks it PodScheduled=True and records "Scheduled"; when no
/// node fits, sets PodScheduled=False/Unschedulable and records "FailedScheduling", and tries again when nodes
/// change, pods go away, or on resync. Pods it has bound but not yet seen back are "assumed" on their node so two
/// pods never take the same host port. A pod whose WaitForFirstConsumer claims are unbound is not bound yet: the chosen
/// node goes on those claims (<see cref="VolumeFacts.SelectedNode"/>, for the provisioner or the binder), and the pod
/// is bound when they are (their volumes then admit only that node). A pod that fits nowhere preempts lower-priority
/// pods (<see cref="DefaultPreemption"/>): its status names the node (nominatedNodeName, where room is held for it
/// against pods of lower priority), and the victims get the DisruptionTarget condition and are deleted gracefully.
/// A nomination is cleared as Kubernetes 1.32 clears it: when preemption finds no candidate node any more, and when a
/// pod of higher priority preempts on the nominated node (a bound pod keeps the field: clearing it after binding
/// is Kubernetes 1.34's ClearingNominatedNodeNameAfterBinding).
/// Writes only spec.nodeName, the PodScheduled and DisruptionTarget conditions, nominatedNodeName, the selected-node
/// annotation of claims, and preempted pods' deletion.
/// At scale, as kube-scheduler: the view of the nodes is kept change by change (<see cref="SchedulerCache"/>); a
/// decision filters only until enough feasible nodes are found (percentageOfNodesToScore), starting where the previous
/// one stopped; and bindings (spec.nodeName and PodScheduled=True in one write, the store's pods/binding) go to the
/// store many at a time, one <see cref="WriteObjects"/> in flight: those decided while one is being stored go in the
/// next, with the "Scheduled" events of the bindings just stored. Pods are decided a slice at a time (<see cref="DrainSlice"/>,
/// in the order they were queued) so that the bindings of one slice go to the store, and the store's answers come
/// back, while the next slices are decided — kube-scheduler binds in a goroutine of its own while it schedules the next
/// pod; deciding a whole queue of 100,000 pods in one message held every binding back until the last was decided.
/// </summary>
internal sealed class Scheduler : ControllerActor
{
    public const string SchedulerName = "default-scheduler";
    private const string Pods = "pods";
    private const string Nodes = "nodes";
    private const string Claims = "persistentvolumeclaims";
    private const string Volumes = "persistentvolumes";
    private const string Classes = "storageclasses";
    private const string Namespaces = "namespaces";
    private const string Budgets = "poddisruptionbudgets";
    private static readonly TimeSpan RepeatedFailureEvent = TimeSpan.FromSeconds(60);
    private const int MaxBatch = 1000; // writes in one WriteObjects
    private const int PodsPerSlice = 64; // ≈ 10–50 ms of decisions at 5,000 nodes: the longest a binding's answer waits
    private static readonly TimeSpan BatchTimeout = TimeSpan.FromSeconds(30);

    private readonly SchedulingAlgorithm _algorithm;
    private readonly EventRecorder _events;
    private readonly Dictionary<string, (V1Pod Pod, string Node)> _assumed = new(); // by pod uid
    private readonly Dictionary<ResourceKey, (string Message, DateTime At)> _unschedulable = new();
    private readonly HashSet<string> _conditionsInFlight = new(); // pod uids
    private readonly SchedulerCache _nodes = new();
    private readonly Dictionary<string, V1Pod> _nominated = new(); // pending pods with a nominated node, by uid
    private readonly DefaultPreemption _preemption;

    private sealed record Binding(ResourceKey Key, V1Pod Pod, string Node);

    /// <summary>Sends the waiting bindings and events to the store (after the reconciles queued with it).</summary>
    private sealed record FlushBindings
    {
        public static readonly FlushBindings Instance = new();
    }

    /// <summary>The store's answers to batch <see cref="Sequence"/> (null: no answer in time).</summary>
    private sealed record BindingsWritten(long Sequence, ObjectsWritten? Written);

    /// <summary>One <see cref="WriteObjects"/> and its answer (or none in time) back to the scheduler as <see cref="BindingsWritten"/>.</summary>
    private sealed class BatchCall : ReceiveActor
    {
        public BatchCall(IActorRef store, WriteObjects batch, long sequence, IActorRef scheduler)
        {
            Receive<ObjectsWritten>(written => Finish(scheduler, new BindingsWritten(sequence, written)));
            Receive<ReceiveTimeout>(_ => Finish(scheduler, new BindingsWritten(sequence, null)));
            store.Tell(batch, Self);
            Context.SetReceiveTimeout(BatchTimeout);
        }

        private void Finish(IActorRef scheduler, BindingsWritten answer)
        {
            scheduler.Tell(answer);
            Context.Stop(Self);
        }
    }

    private readonly List<Binding> _bindings = new(); // decided, not yet sent
    private readonly List<object> _eventWrites = new(); // "Scheduled" events of stored bindings, not yet sent
    private List<Binding>? _bindingsInFlight;
    private long _batchSequence;
    private bool _flushScheduled;
    private int _nextStartNodeIndex; // Kubernetes' nextStartNodeIndex: where the next decision starts filtering

    private sealed record ConditionTag(ResourceKey Key, string Uid);

    private sealed record SelectNodeTag(ResourceKey Key);

    private sealed record PreemptTag(V1Pod Victim);

    private readonly VolumeBindingFilter _volumeBinding;

    public Scheduler(IActorRef store, TimeSpan resync, SchedulingAlgorithm? algorithm = null)
        : base(store, [Pods, Nodes, Claims, Volumes, Classes, Namespaces, Budgets], resync)
    {
        _volumeBinding = new VolumeBindingFilter(new CachedVolumes(Cache));
        _algorithm = algorithm ?? SchedulingAlgorithm.Standard(new CachedVolumes(Cache), new CachedNamespaces(Cache));
        _events = new EventRecorder(store, SchedulerName);
        _preemption = new DefaultPreemption(_algorithm);
        Receive<FlushBindings>(_ =>
        {
            _flushScheduled = false;
            Flush();
        });
        Receive<BindingsWritten>(Written);
    }

    public static Props Props(IActorRef store, TimeSpan resync) => Akka.Actor.Props.Create(() => new Scheduler(store, resync, null));

    protected override int DrainSlice => PodsPerSlice;

    protected override IEnumerable<ResourceKey> AllKeys() =>
        Cache.List<V1Pod>(Pods).Where(p => !PodFacts.IsScheduled(p) || !IsMarkedScheduled(p)).Select(p => ObjectCache.KeyOf(Pods, p));

    private static bool IsMarkedScheduled(V1Pod pod) => PodFacts.Condition(pod, "PodScheduled")?.Status == "True";

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == Budgets) return; // read when a pod preempts
        if (resource is Claims or Volumes or Classes)
        {
            // a claim bound or made, a volume freed: the pods that wait for claims decide again
            foreach (var waiting in Cache.List<V1Pod>(Pods).Where(p => !PodFacts.IsScheduled(p) && VolumeFacts.Claims(p).Any()))
                Enqueue(ObjectCache.KeyOf(Pods, waiting));
            return;
        }
        if (resource == Namespaces)
        {
            if (!KubeObjects.SameJson((old as V1Namespace)?.Metadata.Labels, (current as V1Namespace)?.Metadata.Labels))
                RetryUnschedulable(); // namespaceSelectors of affinity terms may read differently
            return;
        }
        if (resource == Nodes)
        {
            if (current is V1Node n) _nodes.SetNode(n);
            else if (old is not null) _nodes.RemoveNode(old.Metadata.Name);
            if (old is null || current is null || !SameForScheduling((V1Node)old, (V1Node)current))
                RetryUnschedulable();
            return;
        }

        var pod = current as V1Pod;
        var before = old as V1Pod;
        if (pod is not null && PodFacts.IsScheduled(pod)) _assumed.Remove(pod.Metadata.Uid);
        Count(pod, before);
        if (pod is not null && !PodFacts.IsScheduled(pod) && !_assumed.ContainsKey(pod.Metadata.Uid)
            && pod.Status?.NominatedNodeName is { Length: > 0 }) _nominated[pod.Metadata.Uid] = pod;
        else _nominated.Remove((pod ?? before)!.Metadata.Uid);
        if (pod is null && before is not null)
        {
            _assumed.Remove(before.Metadata.Uid);
            _unschedulable.Remove(ObjectCache.KeyOf(Pods, before));
        }
        if (pod is not null && (!PodFacts.IsScheduled(pod) || !IsMarkedScheduled(pod))) Enqueue(ObjectCache.KeyOf(Pods, pod));

        // Room freed on a node: a pod went away or finished.
        var freed = (pod is null && before is not null && PodFacts.IsScheduled(before)) ||
                    (pod is not null && before is not null && PodFacts.IsTerminal(pod) && !PodFacts.IsTerminal(before));
        if (freed) RetryUnschedulable();
    }

    // Keeps the cache of pods per node in step with the feed; an assumed pod stays counted until its binding shows.
    private void Count(V1Pod? pod, V1Pod? before)
    {
        if (pod is not null && PodFacts.IsScheduled(pod) && !PodFacts.IsTerminal(pod)) _nodes.SetPod(pod, pod.Spec.NodeName);
        else if (pod is null || !_assumed.ContainsKey(pod.Metadata.Uid)) _nodes.RemovePod((pod ?? before)!.Metadata.Uid);
    }

    // After a (re)list the informer cache was replaced without changes: rebuild the view from it.
    protected override void OnSynced() => Rebuild();

    protected override void OnResync() => Rebuild();

    private void Rebuild()
    {
        _nodes.Clear();
        foreach (var node in Cache.List<V1Node>(Nodes)) _nodes.SetNode(node);
        foreach (var pod in Cache.List<V1Pod>(Pods))
            if (PodFacts.IsScheduled(pod) && !PodFacts.IsTerminal(pod)) _nodes.SetPod(pod, pod.Spec.NodeName);
        foreach (var (pod, node) in _assumed.Values) _nodes.SetPod(pod, node);
    }

    private void RetryUnschedulable()
    {
        foreach (var key in _unschedulable.Keys) Enqueue(key);
    }

    // Whether what about a node matters for scheduling is the same (heartbeat times do not matter); compared field by
    // field, not serialised: every node status write of every node comes through here.
    private static bool SameForScheduling(V1Node a, V1Node b) =>
        a.Spec?.Unschedulable == b.Spec?.Unschedulable && ReadyStatus(a) == ReadyStatus(b)
        && SameLabels(a.Metadata.Labels, b.Metadata.Labels)
        && ((a.Spec?.Taints is not { Count: > 0 } && b.Spec?.Taints is not { Count: > 0 }) || KubeObjects.SameJson(a.Spec?.Taints, b.Spec?.Taints));

    private static string? ReadyStatus(V1Node node)
    {
        foreach (var c in node.Status?.Conditions ?? [])
            if (c.Type == "Ready") return c.Status;
        return null;
    }

    private static bool SameLabels(IDictionary<string, string>? a, IDictionary<string, string>? b)
    {
        if ((a?.Count ?? 0) != (b?.Count ?? 0)) return false;
        if (a is null || b is null) return true;
        foreach (var (key, value) in a)
            if (!b.TryGetValue(key, out var other) || other != value) return false;
        return true;
    }

    protected override void Reconcile(ResourceKey key)
    {
        var pod = Cache.Get<V1Pod>(key.Resource, key.Namespace, key.Name);
        if (pod is null || pod.Metadata.DeletionTimestamp is not null || PodFacts.IsTerminal(pod))
        {
            _unschedulable.Remove(key);
            return;
        }
        if (pod.Spec?.SchedulerName is { Length: > 0 } name && name != SchedulerName) return;
        if (PodFacts.IsScheduled(pod))
        {
            _unschedulable.Remove(key);
            // Bound, but the PodScheduled=True write was lost (a conflict with the node's status report): redo it.
            if (!IsMarkedScheduled(pod) && !_assumed.ContainsKey(pod.Metadata.Uid) && !_conditionsInFlight.Contains(pod.Metadata.Uid))
                MarkScheduled(key, pod);
            return;
        }
        if (_assumed.ContainsKey(pod.Metadata.Uid)) return; // our binding is in flight

        var started = Diagnostics.MasterMetrics.SchedulingStarted();
        // not copied: decided on and let go of before the cache changes again (below)
        var nodes = WithNominated(pod, _nodes.CurrentNodeInfos());
        var result = _algorithm.Schedule(pod, nodes, _nextStartNodeIndex);
        if (nodes.Count > 0) _nextStartNodeIndex = (_nextStartNodeIndex + result.NodesProcessed) % nodes.Count;
        Diagnostics.MasterMetrics.SchedulingAttempt(result.Scheduled, started);
        if (result.Scheduled && _volumeBinding.UnboundClaims(pod) is { Count: > 0 } unbound)
        {
            _unschedulable.Remove(key);
            SelectNode(key, unbound, result.NodeName!);
            return;
        }
        if (result.Scheduled)
        {
            _unschedulable.Remove(key);
            _assumed[pod.Metadata.Uid] = (pod, result.NodeName!);
            _nominated.Remove(pod.Metadata.Uid); // as the scheduling queue's nominator on assume: its room is taken, not held
            _nodes.SetPod(pod, result.NodeName!);
            _bindings.Add(new Binding(key, pod, result.NodeName!));
            ScheduleFlush();
            return;
        }
        var preemption = _preemption.Preempt(pod, nodes, Cache.List<V1PodDisruptionBudget>(Budgets).ToList());
        if (preemption.NodeName is not null) Preempt(pod, preemption);
        var nomination = preemption.NodeName ?? (preemption.ClearsNomination ? null : pod.Status?.NominatedNodeName);
        Unschedulable(key, pod, preemption.FailureMessage is { } why ? $"{result.FailureMessage} preemption: {why}" : result.FailureMessage!,
            nomination);
    }

    /// <summary>Room for pods nominated to a node (after they preempted) is held against pods of no higher priority
    /// (Kubernetes' filtering with nominated pods).</summary>
    private IReadOnlyList<NodeInfo> WithNominated(V1Pod pod, IReadOnlyList<NodeInfo> nodes)
    {
        if (_nominated.Count == 0) return nodes;
        var priority = DefaultPreemption.PriorityOf(pod);
        var held = _nominated.Values
            .Where(n => n.Metadata.Uid != pod.Metadata.Uid && DefaultPreemption.PriorityOf(n) >= priority)
            .GroupBy(n => n.Status.NominatedNodeName)
            .ToDictionary(g => g.Key, g => g.ToList());
        if (held.Count == 0) return nodes;
        return nodes.Select(n => held.TryGetValue(n.Name, out var extra) ? new NodeInfo(n.Node, n.Pods.Concat(extra).ToList()) : n).ToList();
    }

    /// <summary>Kubernetes' prepareCandidate: each victim gets the DisruptionTarget condition and is deleted with its grace
    /// period; lower-priority pods nominated to the node lose the nomination.</summary>
    private void Preempt(V1Pod pod, PreemptionResult preemption)
    {
        var now = Truncate(DateTime.UtcNow);
        foreach (var victim in preemption.Victims)
        {
            var marked = KubeObjects.Clone(victim);
            marked.Status ??= new V1PodStatus();
            marked.Status.Conditions = (marked.Status.Conditions ?? []).Where(c => c.Type != "DisruptionTarget").Append(new V1PodCondition
            {
                Type = "DisruptionTarget", Status = "True", Reason = "PreemptionByScheduler",
                Message = $"{SchedulerName}: preempting to accommodate a higher priority pod", LastTransitionTime = now,
            }).ToList();
            marked.Metadata.ResourceVersion = null;
            SendAndForget(new UpdateObject(Pods, marked, "status"));
            Send(new DeleteObject(ObjectCache.KeyOf(Pods, victim), PreconditionUid: victim.Metadata.Uid, GracePeriodSeconds: null), new PreemptTag(victim));
            _events.Record(victim, EventRecorder.Normal, "Preempted", $"Preempted by pod {pod.Metadata.Uid} on node {preemption.NodeName}", Self);
        }
        foreach (var other in _nominated.Values.Where(n => n.Status.NominatedNodeName == preemption.NodeName
                                                           && DefaultPreemption.PriorityOf(n) < DefaultPreemption.PriorityOf(pod)).ToList())
        {
            var cleared = KubeObjects.Clone(other);
            cleared.Status.NominatedNodeName = null;
            cleared.Metadata.ResourceVersion = null;
            SendAndForget(new UpdateObject(Pods, cleared, "status"));
        }
    }

    /// <summary>The node goes on the pod's unbound claims; the pod is bound once they are (a claim change wakes it).</summary>
    private void SelectNode(ResourceKey key, IReadOnlyList<V1PersistentVolumeClaim> unbound, string node)
    {
        foreach (var claim in unbound.Where(c => c.Metadata.Annotations?.ContainsKey(VolumeFacts.SelectedNode) != true))
        {
            var selected = KubeObjects.Clone(claim);
            selected.Metadata.Annotations ??= new Dictionary<string, string>();
            selected.Metadata.Annotations[VolumeFacts.SelectedNode] = node;
            Send(new UpdateObject(Claims, selected), new SelectNodeTag(key));
        }
    }

    /// <param name="nomination">The nominatedNodeName the pod keeps or gets (null: none).</param>
    private void Unschedulable(ResourceKey key, V1Pod pod, string message, string? nomination)
    {
        var now = DateTime.UtcNow;
        var repeat = _unschedulable.TryGetValue(key, out var last) && last.Message == message && now - last.At < RepeatedFailureEvent;
        if (!repeat)
        {
            _unschedulable[key] = (message, now);
            _events.Record(pod, EventRecorder.Warning, "FailedScheduling", message, Self);
        }
        var condition = PodFacts.Condition(pod, "PodScheduled");
        if (string.IsNullOrEmpty(nomination)) nomination = null;
        var current = string.IsNullOrEmpty(pod.Status?.NominatedNodeName) ? null : pod.Status.NominatedNodeName;
        if ((condition is { Status: "False", Reason: "Unschedulable" } && condition.Message == message && nomination == current) ||
            _conditionsInFlight.Contains(pod.Metadata.Uid)) return;
        WriteCondition(key, pod, new V1PodCondition
        {
            Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = message,
            LastTransitionTime = condition?.Status == "False" ? condition.LastTransitionTime : Truncate(now),
        }, status => status.NominatedNodeName = nomination);
    }

    private void MarkScheduled(ResourceKey key, V1Pod pod) =>
        WriteCondition(key, pod, new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = Truncate(DateTime.UtcNow) });

    private void WriteCondition(ResourceKey key, V1Pod pod, V1PodCondition condition, Action<V1PodStatus>? alsoChange = null)
    {
        var updated = KubeObjects.Clone(pod);
        updated.Status ??= new V1PodStatus();
        alsoChange?.Invoke(updated.Status);
        updated.Status.Phase ??= "Pending";
        updated.Status.Conditions = (updated.Status.Conditions ?? []).Where(c => c.Type != "PodScheduled").Prepend(condition).ToList();
        _conditionsInFlight.Add(pod.Metadata.Uid);
        Send(new UpdateObject(Pods, updated, "status"), new ConditionTag(key, pod.Metadata.Uid));
    }

    private void ScheduleFlush()
    {
        if (_flushScheduled || _bindingsInFlight is not null) return;
        _flushScheduled = true;
        Self.Tell(FlushBindings.Instance);
    }

    /// <summary>One batch to the store, unless one is being stored (its answer sends the next): the bindings decided since,
    /// each conditional on the pod's resourceVersion as it was decided on, and the events of the bindings stored before.</summary>
    private void Flush()
    {
        if (_bindingsInFlight is not null || (_bindings.Count == 0 && _eventWrites.Count == 0)) return;
        var bindings = _bindings.Take(MaxBatch).ToList();
        _bindings.RemoveRange(0, bindings.Count);
        var events = _eventWrites.Take(MaxBatch - bindings.Count).ToList();
        _eventWrites.RemoveRange(0, events.Count);
        var writes = new List<object>(bindings.Count + events.Count);
        foreach (var b in bindings)
        {
            var bound = new V1Pod
            {
                ApiVersion = b.Pod.ApiVersion, Kind = b.Pod.Kind,
                Metadata = new V1ObjectMeta
                {
                    Name = b.Pod.Metadata.Name, NamespaceProperty = b.Pod.Metadata.NamespaceProperty, ResourceVersion = b.Pod.Metadata.ResourceVersion,
                },
                Spec = new V1PodSpec { NodeName = b.Node },
            };
            // built for this write alone and not kept: the store takes it without copying it
            writes.Add(new UpdateObject(Pods, bound, "binding") { HandedOver = true });
        }
        writes.AddRange(events);
        _bindingsInFlight = bindings;
        var sequence = ++_batchSequence;
        // from a child, so that the store names the scheduler (kube-scheduler) as the events' field manager (a binding
        // records none, as Kubernetes')
        // (Props by type: an expression's arguments would be compiled on every batch)
        Context.ActorOf(Akka.Actor.Props.Create(typeof(BatchCall), Store, new WriteObjects(writes), sequence, Self));
    }

    private void Written(BindingsWritten written)
    {
        if (written.Sequence != _batchSequence || _bindingsInFlight is not { } bindings) return;
        _bindingsInFlight = null;
        var replies = written.Written?.Replies;
        var unexpected = 0;
        string? firstError = null;
        for (var i = 0; i < bindings.Count; i++)
        {
            var b = bindings[i];
            if (replies is not null && i < replies.Count && replies[i] is ObjectStored)
            {
                var ev = _events.Prepare(b.Pod, EventRecorder.Normal, "Scheduled",
                    $"Successfully assigned {b.Pod.Metadata.NamespaceProperty}/{b.Pod.Metadata.Name} to {b.Node}");
                _eventWrites.Add(ev);
                continue;
            }
            // 409/404: the pod changed or went; 429: the store's queue is full — routine, the pod is decided again
            if (replies is null || i >= replies.Count || replies[i] is StoreFailed { Error.Code: not (409 or 404 or 429) })
            {
                unexpected++;
                firstError ??= (replies is not null && i < replies.Count ? replies[i] as StoreFailed : null)?.Error.Message ?? "the store did not answer in time";
            }
            // The pod changed under us (or went away): forget the assumption and decide again from fresh state.
            _assumed.Remove(b.Pod.Metadata.Uid);
            if (Cache.Get<V1Pod>(Pods, b.Key.Namespace, b.Key.Name) is not { } now || !PodFacts.IsScheduled(now))
                _nodes.RemovePod(b.Pod.Metadata.Uid);
            RequeueAfter(b.Key, TimeSpan.FromSeconds(1));
        }
        if (unexpected > 0) Log.Warning("binding {0} of {1} pods failed: {2}", unexpected, bindings.Count, firstError);
        if (replies is not null)
            foreach (var failed in replies.Skip(bindings.Count).OfType<StoreFailed>().Where(f => f.Error.Code is not (409 or 404 or 429)).Take(1))
                Log.Warning("recording Scheduled events failed: {0}", failed.Error.Message);
        Flush();
    }

    private static DateTime Truncate(DateTime t) => t.AddTicks(-(t.Ticks % TimeSpan.TicksPerSecond));

    protected override void OnStoreReplied(StoreReplied reply)
    {
        switch (reply.Tag)
        {
            case PreemptTag p when !reply.Succeeded:
                Log.Warning("preempting {0}/{1} failed: {2}", p.Victim.Metadata.NamespaceProperty, p.Victim.Metadata.Name, reply.Failed!.Error.Message);
                break;
            case SelectNodeTag s:
                if (!reply.Succeeded) RequeueAfter(s.Key, TimeSpan.FromSeconds(1));
                break;
            case ConditionTag c:
                _conditionsInFlight.Remove(c.Uid);
                if (!reply.Succeeded) RequeueAfter(c.Key, TimeSpan.FromSeconds(1));
                break;
            default:
                base.OnStoreReplied(reply);
                break;
        }
    }
}

