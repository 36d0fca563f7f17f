using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Kubernetes' pod garbage collector, the orphan part: a pod bound to a node that no longer exists (removed with
/// <c>kubectl delete node</c> or the lab's remove-node) has nobody left to run or stop it, so it is deleted at once
/// (grace period 0, guarded by its uid). Without it such pods stay Terminating forever after an eviction, because
/// only their node could confirm that their containers stopped. A pod bound to a node this collector has never seen
/// (created with spec.nodeName of a node not registered yet, or found at start) is kept for a quarantine first, as
/// kube-controller-manager's podgc keeps it for 40 s: the node may be about to register.
/// And kube's gcTerminating (non-graceful node shutdown, GA in 1.28): a terminating pod (deletionTimestamp set) bound to
/// a node that is not Ready and carries the node.kubernetes.io/out-of-service taint (any value, any effect) is marked
/// Failed (unless it has finished) and deleted at once: its node is known to be down, so nobody will confirm it stopped,
/// and a StatefulSet can make its replacement elsewhere. An administrator's taint is the proof the node is down; a pod
/// on a node that is only NotReady keeps waiting for it.
/// </summary>
internal sealed class PodGarbageCollector : ControllerActor
{
    private const string Nodes = "nodes";
    private const string Pods = "pods";
    public const string OutOfServiceTaint = "node.kubernetes.io/out-of-service";

    private sealed record MarkedFailed(ResourceKey Pod, string? Uid);

    /// <summary>podgc's quarantineTime.</summary>
    public static readonly TimeSpan DefaultQuarantine = TimeSpan.FromSeconds(40);

    private readonly TimeSpan _quarantine;
    // nodes seen deleted: their pods go at once; names missing otherwise, with when a pod first named them
    private readonly HashSet<string> _deletedNodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _missingSince = new(StringComparer.Ordinal);

    public PodGarbageCollector(IActorRef store, TimeSpan resync, TimeSpan quarantine) : base(store, [Nodes, Pods], resync) =>
        _quarantine = quarantine;

    public static Props Props(IActorRef store, TimeSpan resync, TimeSpan? quarantine = null) =>
        Akka.Actor.Props.Create(() => new PodGarbageCollector(store, resync, quarantine ?? DefaultQuarantine));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Pods);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == Pods)
        {
            if (current is not null) Enqueue(ObjectCache.KeyOf(Pods, current));
            return;
        }
        if (current is not null)
        {
            _deletedNodes.Remove(current.Metadata.Name);
            _missingSince.Remove(current.Metadata.Name);
            // out of service now (or no longer): its terminating pods are looked at
            if (OutOfService(current as V1Node) != OutOfService(old as V1Node))
                foreach (var pod in Cache.List<V1Pod>(Pods).Where(p => p.Spec?.NodeName == current.Metadata.Name && p.Metadata.DeletionTimestamp is not null))
                    Enqueue(ObjectCache.KeyOf(Pods, pod));
            return;
        }
        if (old is null) return;
        _deletedNodes.Add(old.Metadata.Name);
        foreach (var pod in Cache.List<V1Pod>(Pods).Where(p => p.Spec?.NodeName == old.Metadata.Name))
            Enqueue(ObjectCache.KeyOf(Pods, pod));
    }

    protected override void Reconcile(ResourceKey key)
    {
        var pod = Cache.Get<V1Pod>(key.Resource, key.Namespace, key.Name);
        var nodeName = pod?.Spec?.NodeName;
        if (pod is null || string.IsNullOrEmpty(nodeName)) return;
        if (Cache.Get<V1Node>(Nodes, null, nodeName) is { } node)
        {
            if (pod.Metadata.DeletionTimestamp is not null && OutOfService(node)) ForceDeleteTerminating(key, pod, nodeName);
            return;
        }
        if (!_deletedNodes.Contains(nodeName))
        {
            var now = DateTimeOffset.UtcNow;
            if (!_missingSince.TryGetValue(nodeName, out var since)) _missingSince[nodeName] = since = now;
            if (now - since < _quarantine)
            {
                RequeueAfter(key, since + _quarantine - now);
                return;
            }
        }
        Log.Info("deleting pod {0}/{1}: its node {2} no longer exists", key.Namespace, key.Name, nodeName);
        SendAndForget(new DeleteObject(key, PreconditionUid: pod.Metadata.Uid, GracePeriodSeconds: 0));
        // the last pod naming a missing node: its name is not kept (names come from users' pods)
        if (!Cache.List<V1Pod>(Pods).Any(p => p.Spec?.NodeName == nodeName && p.Metadata.Uid != pod.Metadata.Uid))
            _missingSince.Remove(nodeName);
    }

    /// <summary>kube's gcTerminating condition: the node is not Ready and has the out-of-service taint.</summary>
    private static bool OutOfService(V1Node? node) =>
        node is not null &&
        node.Status?.Conditions?.Any(c => c?.Type == "Ready" && c.Status == "True") != true &&
        node.Spec?.Taints?.Any(t => t?.Key == OutOfServiceTaint) == true;

    /// <summary>kube's markFailedAndDeletePod: phase Failed first (a pod that has not finished), then the deletion with grace
    /// period 0, guarded by the pod's uid.</summary>
    private void ForceDeleteTerminating(ResourceKey key, V1Pod pod, string nodeName)
    {
        Log.Info("force deleting pod {0}/{1}: it is terminating on node {2}, which is NotReady and out of service", key.Namespace, key.Name, nodeName);
        if (pod.Status?.Phase is "Succeeded" or "Failed")
        {
            SendAndForget(new DeleteObject(key, PreconditionUid: pod.Metadata.Uid, GracePeriodSeconds: 0));
            return;
        }
        var failed = KubeObjects.Clone(pod);
        failed.Status ??= new V1PodStatus();
        failed.Status.Phase = "Failed";
        Send(new UpdateObject(Pods, failed, "status"), new MarkedFailed(key, pod.Metadata.Uid));
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is not MarkedFailed marked)
        {
            base.OnStoreReplied(reply);
            return;
        }
        if (reply.Succeeded) SendAndForget(new DeleteObject(marked.Pod, PreconditionUid: marked.Uid, GracePeriodSeconds: 0));
        else Enqueue(marked.Pod); // a newer pod (409): looked at again; gone (404): nothing to do
    }
}
