using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Coordination;

/// <summary>The coordination.k8s.io group: Leases, stored (leader election of clients uses them; the NodeGateway
/// renews one per node in kube-node-lease on every heartbeat, which kubectl <c>describe node</c> and the node lifecycle
/// controller read).</summary>
internal static class CoordinationResources
{
    public static readonly ResourceDescription Leases = new()
    {
        Group = "coordination.k8s.io", Version = "v1", Resource = "leases", Kind = "Lease", Namespaced = true,
        ObjectType = typeof(V1Lease), Strategy = new LeaseStrategy(), Printer = new LeaseTablePrinter(),
        ProtobufMessage = "k8s.io.api.coordination.v1.Lease",
    };

    public static IReadOnlyList<ResourceDescription> All => [Leases];
}
