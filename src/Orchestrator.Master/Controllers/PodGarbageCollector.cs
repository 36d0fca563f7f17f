using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Kubernetes' pod garbage collector, the orphan part: a pod bound to a node that no longer exists (removed with
/// <c>kubectl delete node</c> or the lab's remove-node) has nobody left to run or stop it, so it is deleted at once
/// (grace period 0, guarded by its uid). Without it such pods stay Terminating forever after an eviction, because
/// only their node could confirm that their containers stopped.
/// </summary>
internal sealed class PodGarbageCollector : ControllerActor
{
    private const string Nodes = "nodes";
    private const string Pods = "pods";

    public PodGarbageCollector(IActorRef store, TimeSpan resync) : base(store, [Nodes, Pods], resync) { }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new PodGarbageCollector(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Pods);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == Pods)
        {
            if (current is not null) Enqueue(ObjectCache.KeyOf(Pods, current));
            return;
        }
        if (current is null && old is not null)
            foreach (var pod in Cache.List<V1Pod>(Pods).Where(p => p.Spec?.NodeName == old.Metadata.Name))
                Enqueue(ObjectCache.KeyOf(Pods, pod));
    }

    protected override void Reconcile(ResourceKey key)
    {
        var pod = Cache.Get<V1Pod>(key.Resource, key.Namespace, key.Name);
        var nodeName = pod?.Spec?.NodeName;
        if (pod is null || string.IsNullOrEmpty(nodeName) || Cache.Get<V1Node>(Nodes, null, nodeName) is not null) return;
        Log.Info("deleting pod {0}/{1}: its node {2} no longer exists", key.Namespace, key.Name, nodeName);
        SendAndForget(new DeleteObject(key, PreconditionUid: pod.Metadata.Uid, GracePeriodSeconds: 0));
    }
}
