using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Coordination;

/// <summary>The coordination.k8s.io group. Leases are read-only, the nodes' heartbeats presented by the API (kubectl
/// <c>describe node</c> reads them); nothing stores them.</summary>
internal static class CoordinationResources
{
    public static readonly ResourceDescription Leases = new()
    {
        Group = "coordination.k8s.io", Version = "v1", Resource = "leases", Kind = "Lease", Namespaced = true,
        ObjectType = typeof(V1Lease), Strategy = new ModelStrategy<V1Lease>(), Printer = new LeaseTablePrinter(),
        Verbs = ResourceDescription.ReadVerbs,
    };

    public static IReadOnlyList<ResourceDescription> All => [Leases];
}
