using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Keeps one coordination.k8s.io Lease per Node in kube-node-lease, as kubelets do: our nodes heartbeat through the
/// cluster protocol (their conditions' lastHeartbeatTime), and this controller renews the node's lease from that
/// heartbeat (holder the node, 40 s duration, owned by the Node) so that <c>kubectl describe node</c> and lease readers
/// see it. Deletes the lease of a node that is gone. Writes only those leases.
/// </summary>
internal sealed class NodeLeaseController : ControllerActor
{
    public const string LeaseNamespace = "kube-node-lease";
    private const string Nodes = "nodes";
    private const string Leases = "leases";

    public NodeLeaseController(IActorRef store, TimeSpan resync) : base(store, [Nodes, Leases], resync)
    {
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new NodeLeaseController(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() =>
        Cache.Keys(Nodes).Concat(Cache.List<V1Lease>(Leases, LeaseNamespace).Where(OwnedByNode)
            .Select(l => new ResourceKey(Nodes, null, l.Metadata.Name))).Distinct();

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        var any = (current ?? old)!;
        if (resource == Nodes) Enqueue(new ResourceKey(Nodes, null, any.Metadata.Name));
        else if (any.Metadata.NamespaceProperty == LeaseNamespace) Enqueue(new ResourceKey(Nodes, null, any.Metadata.Name));
    }

    protected override void Reconcile(ResourceKey key)
    {
        var node = Cache.Get<V1Node>(Nodes, null, key.Name);
        var lease = Cache.Get<V1Lease>(Leases, LeaseNamespace, key.Name);
        if (node is null)
        {
            if (lease is not null && OwnedByNode(lease))
                SendAndForget(new DeleteObject(new ResourceKey(Leases, LeaseNamespace, key.Name), PreconditionUid: lease.Metadata.Uid));
            return;
        }
        var renewed = node.Status?.Conditions?.Select(c => c.LastHeartbeatTime).Max();
        if (lease is null)
        {
            Send(new CreateObject(Leases, new V1Lease
            {
                ApiVersion = ModelTypes.ApiVersionOf(typeof(V1Lease)),
                Kind = ModelTypes.KindOf(typeof(V1Lease)),
                Metadata = new V1ObjectMeta
                {
                    Name = node.Metadata.Name, NamespaceProperty = LeaseNamespace,
                    OwnerReferences =
                    [
                        new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = node.Metadata.Name, Uid = node.Metadata.Uid },
                    ],
                },
                Spec = new V1LeaseSpec { HolderIdentity = node.Metadata.Name, LeaseDurationSeconds = 40, RenewTime = renewed },
            }), key);
            return;
        }
        if (lease.Spec?.RenewTime == renewed || renewed is null) return;
        var updated = KubeObjects.Clone(lease);
        updated.Spec ??= new V1LeaseSpec { HolderIdentity = node.Metadata.Name, LeaseDurationSeconds = 40 };
        updated.Spec.RenewTime = renewed;
        Send(new UpdateObject(Leases, updated), key);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is ResourceKey key && !reply.Succeeded)
        {
            if (reply.Failed!.Error.Code is not (409 or 404))
                Log.Warning("writing the lease of node {0} failed: {1}", key.Name, reply.Failed.Error.Message);
            RequeueAfter(key, TimeSpan.FromSeconds(1));
        }
    }

    private static bool OwnedByNode(V1Lease lease) => lease.Metadata.OwnerReferences?.Any(o => o.Kind == "Node" && o.ApiVersion == "v1") == true;
}
