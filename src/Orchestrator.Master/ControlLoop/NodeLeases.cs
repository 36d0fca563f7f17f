using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.ControlLoop;

/// <summary>
/// The node heartbeat Leases (coordination.k8s.io, one per node in kube-node-lease), as the kubelet keeps them: holder
/// the node, 40 s duration, renewed on every heartbeat, owned by the Node (the garbage collector removes the Lease
/// with it). The NodeGateway writes them; the node lifecycle controller reads them as the node's liveness.
/// </summary>
internal static class NodeLeases
{
    public const string Resource = "leases";
    public const string Namespace = "kube-node-lease";

    /// <summary>The kubelet's nodeLeaseDurationSeconds; it renews every quarter of it (10 s).</summary>
    public const int DurationSeconds = 40;

    /// <summary>The write that renews <paramref name="node"/>'s lease at <paramref name="now"/>: an update of the lease
    /// there is (unconditional: the node is the only writer), or the create of a new one.</summary>
    public static object Renewal(V1Node node, V1Lease? lease, DateTime now)
    {
        if (lease is not null)
        {
            var renewed = KubeObjects.Clone(lease);
            renewed.Metadata.ResourceVersion = null;
            renewed.Spec ??= new V1LeaseSpec();
            renewed.Spec.HolderIdentity = node.Metadata.Name;
            renewed.Spec.LeaseDurationSeconds = DurationSeconds;
            renewed.Spec.RenewTime = now;
            return new UpdateObject(Resource, renewed) { HandedOver = true }; // a copy, never sent again
        }
        return new CreateObject(Resource, new V1Lease // built for this write, never sent again
        {
            ApiVersion = "coordination.k8s.io/v1",
            Kind = "Lease",
            Metadata = new V1ObjectMeta
            {
                Name = node.Metadata.Name, NamespaceProperty = Namespace,
                OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = node.Metadata.Name, Uid = node.Metadata.Uid }],
            },
            Spec = new V1LeaseSpec { HolderIdentity = node.Metadata.Name, LeaseDurationSeconds = DurationSeconds, RenewTime = now },
        }) { HandedOver = true };
    }

    /// <summary>When the node last renewed its lease (null: it has none).</summary>
    public static DateTime? RenewTime(V1Lease? lease) => lease?.Spec?.RenewTime;
}
