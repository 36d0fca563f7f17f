using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Discovery;

/// <summary>The discovery.k8s.io group: EndpointSlices, stored (the endpoint slice controller mirrors every Service's
/// Endpoints into them; kubectl <c>describe service</c> reads them).</summary>
internal static class DiscoveryResources
{
    public static readonly ResourceDescription EndpointSlices = new()
    {
        Group = "discovery.k8s.io", Version = "v1", Resource = "endpointslices", Kind = "EndpointSlice", Namespaced = true,
        ObjectType = typeof(V1EndpointSlice), Strategy = new EndpointSliceStrategy(),
        Printer = new EndpointSliceTablePrinter(), ProtobufMessage = "k8s.io.api.discovery.v1.EndpointSlice",
    };

    public static IReadOnlyList<ResourceDescription> All => [EndpointSlices];
}
