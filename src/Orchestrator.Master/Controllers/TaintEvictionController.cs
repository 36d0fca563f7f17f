using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Kubernetes' taint eviction controller (pkg/controller/tainteviction, "taint-eviction-controller"): a pod bound to a
/// node with NoExecute taints is deleted at once when one of them is not tolerated; when all are, after the smallest
/// tolerationSeconds of the tolerations that match (the first matching one per taint), counted from when this controller
/// first saw the pod so tainted; never when a matching toleration has no tolerationSeconds. A pending deletion is
/// cancelled when the taints go or become tolerated for ever (event "Cancelling deletion of Pod ns/name"). Before it
/// deletes (gracefully, as a client's delete) it records the event TaintManagerEviction "Marking for deletion Pod
/// ns/name" and adds the pod condition DisruptionTarget (reason DeletionByTaintManager). Like kube's timed work queue
/// the deadlines live in memory: a restarted master counts them again from its first sighting. Owns nothing; writes
/// the condition, the deletion and the events.
/// </summary>
internal sealed class TaintEvictionController : ControllerActor
{
    public const string Component = "taint-eviction-controller";
    public const string EventReason = "TaintManagerEviction";
    public const string ConditionType = "DisruptionTarget";
    public const string ConditionReason = "DeletionByTaintManager";
    private const string Nodes = "nodes";
    private const string Pods = "pods";

    // a timer may fire a tick early: a little past the deadline, so the pod is due when looked at
    private static readonly TimeSpan DeadlineMargin = TimeSpan.FromMilliseconds(20);

    private readonly Func<DateTime> _clock;
    private readonly EventRecorder _events;
    private readonly Dictionary<ResourceKey, Pending> _pending = new();

    /// <summary>A scheduled deletion: of which pod (uid), noticed when, due when; Fired once the deletion is under way.</summary>
    private sealed record Pending(string? Uid, DateTime CreatedAt, DateTime FireAt, bool Fired = false);

    private sealed record EvictionDue(ResourceKey Pod);
    private sealed record ConditionWritten(ResourceKey Pod, string? Uid);

    public TaintEvictionController(IActorRef store, TimeSpan resync, Func<DateTime>? clock = null)
        : base(store, [Nodes, Pods], resync)
    {
        _clock = clock ?? (() => DateTime.UtcNow);
        _events = new EventRecorder(store, Component, clock: _clock);
        Receive<EvictionDue>(due => Enqueue(due.Pod));
    }

    public static Props Props(IActorRef store, TimeSpan resync, Func<DateTime>? clock = null) =>
        Akka.Actor.Props.Create(() => new TaintEvictionController(store, resync, clock));

    protected override IEnumerable<ResourceKey> AllKeys() =>
        Cache.List<V1Pod>(Pods).Where(p => !string.IsNullOrEmpty(p.Spec?.NodeName)).Select(p => ObjectCache.KeyOf(Pods, p))
            .Concat(_pending.Keys).Distinct().ToList();

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == Pods)
        {
            var pod = (V1Pod)(current ?? old)!;
            if (!string.IsNullOrEmpty(pod.Spec?.NodeName) || _pending.ContainsKey(ObjectCache.KeyOf(Pods, pod))) Enqueue(ObjectCache.KeyOf(Pods, pod));
            return;
        }
        // kube's handleNodeUpdate: only a change of the NoExecute taints (or the node's going) concerns its pods
        var name = (current ?? old)!.Metadata.Name;
        if (current is not null && old is not null && SameTaints(NoExecuteTaints((V1Node)old), NoExecuteTaints((V1Node)current))) return;
        foreach (var pod in Cache.List<V1Pod>(Pods).Where(p => p.Spec?.NodeName == name)) Enqueue(ObjectCache.KeyOf(Pods, pod));
    }

    protected override void Reconcile(ResourceKey key)
    {
        var pod = Cache.Get<V1Pod>(Pods, key.Namespace, key.Name);
        _pending.TryGetValue(key, out var pending);
        if (pending is not null && pod?.Metadata.Uid != pending.Uid) pending = Forget(key); // another pod of that name
        if (pod is null || pod.Metadata.DeletionTimestamp is not null || string.IsNullOrEmpty(pod.Spec?.NodeName))
        {
            Forget(key); // gone or going: nothing to cancel out loud
            return;
        }
        if (pending is { Fired: true }) return; // the deletion is under way
        var taints = NoExecuteTaints(Cache.Get<V1Node>(Nodes, null, pod.Spec.NodeName));
        if (taints.Count == 0)
        {
            Cancel(key, pod, pending);
            return;
        }
        var now = _clock();
        var (allTolerated, used) = Tolerations.Matching(taints, pod.Spec.Tolerations);
        if (!allTolerated)
        {
            Log.Info("pod {0}/{1}: node {2} has a NoExecute taint it does not tolerate", key.Namespace, key.Name, pod.Spec.NodeName);
            Evict(key, pod, now);
            return;
        }
        if (Tolerations.MinTolerationTime(used) is not { } wait)
        {
            Cancel(key, pod, pending); // tolerated for ever
            return;
        }
        // as kube's processPodOnNode: a deletion already scheduled keeps its deadline
        pending ??= _pending[key] = new Pending(pod.Metadata.Uid, now, now + wait);
        if (pending.FireAt <= now) Evict(key, pod, now);
        else Timers.StartSingleTimer(("evict", key), new EvictionDue(key), pending.FireAt - now + DeadlineMargin);
    }

    /// <summary>kube's deletePodHandler and addConditionAndDeletePod: the event, the DisruptionTarget condition, then the
    /// deletion (after the condition is stored; a conflict looks again with the newer pod).</summary>
    private void Evict(ResourceKey key, V1Pod pod, DateTime now)
    {
        Timers.Cancel(("evict", key));
        _pending[key] = new Pending(pod.Metadata.Uid, _pending.GetValueOrDefault(key)?.CreatedAt ?? now, now, Fired: true);
        _events.Record(pod, EventRecorder.Normal, EventReason, $"Marking for deletion Pod {key.Namespace}/{key.Name}", Self);
        var condition = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == ConditionType);
        if (condition is { Status: "True", Reason: ConditionReason })
        {
            Delete(key, pod.Metadata.Uid);
            return;
        }
        var updated = KubeObjects.Clone(pod);
        updated.Status ??= new V1PodStatus();
        updated.Status.Conditions ??= new List<V1PodCondition>();
        var target = updated.Status.Conditions.FirstOrDefault(c => c.Type == ConditionType);
        if (target is null) updated.Status.Conditions.Add(target = new V1PodCondition { Type = ConditionType });
        if (target.Status != "True") target.LastTransitionTime = now;
        target.Status = "True";
        target.Reason = ConditionReason;
        target.Message = "Taint manager: deleting due to NoExecute taint";
        Send(new UpdateObject(Pods, updated, "status"), new ConditionWritten(key, pod.Metadata.Uid));
    }

    private void Delete(ResourceKey key, string? uid) =>
        SendAndForget(new DeleteObject(key, PreconditionUid: uid, GracePeriodSeconds: null));

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is not ConditionWritten written)
        {
            base.OnStoreReplied(reply);
            return;
        }
        if (reply.Succeeded)
        {
            Delete(written.Pod, written.Uid);
            return;
        }
        // a newer pod (409): its change reconciles it again, still due; a vanished one (404): nothing to do
        Log.Debug("condition on {0} refused: {1} {2}", written.Pod, reply.Failed!.Error.Code, reply.Failed.Error.Message);
        if (_pending.TryGetValue(written.Pod, out var p) && p.Fired) _pending[written.Pod] = p with { Fired = false };
        Enqueue(written.Pod);
    }

    private void Cancel(ResourceKey key, V1Pod pod, Pending? pending)
    {
        if (pending is null) return;
        Forget(key);
        Log.Info("pod {0}/{1}: deletion cancelled", key.Namespace, key.Name);
        _events.Record(pod, EventRecorder.Normal, EventReason, $"Cancelling deletion of Pod {key.Namespace}/{key.Name}", Self);
    }

    private Pending? Forget(ResourceKey key)
    {
        Timers.Cancel(("evict", key));
        _pending.Remove(key);
        return null;
    }

    private static List<V1Taint> NoExecuteTaints(V1Node? node) =>
        (node?.Spec?.Taints ?? []).Where(t => t?.Effect == Tolerations.NoExecute).ToList();

    private static bool SameTaints(List<V1Taint> a, List<V1Taint> b) =>
        a.Count == b.Count && a.Zip(b, (x, y) => KubeObjects.SameJson(x, y)).All(same => same);
}
