using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Discovery;

/// <summary>The discovery.k8s.io group. EndpointSlices are read-only, derived from the Endpoints by the API (kubectl
/// <c>describe service</c> reads them); nothing stores them.</summary>
internal static class DiscoveryResources
{
    public static readonly ResourceDescription EndpointSlices = new()
    {
        Group = "discovery.k8s.io", Version = "v1", Resource = "endpointslices", Kind = "EndpointSlice", Namespaced = true,
        ObjectType = typeof(V1EndpointSlice), Strategy = new ModelStrategy<V1EndpointSlice>(),
        Printer = new EndpointSliceTablePrinter(), Verbs = ResourceDescription.ReadVerbs,
    };

    public static IReadOnlyList<ResourceDescription> All => [EndpointSlices];
}
