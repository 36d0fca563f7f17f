using k8s.Models;

namespace Orchestrator.Node.Tests.Services;

/// <summary>Endpoints written as the EndpointSlices the master makes of them (one slice per subset, ready addresses
/// ready and serving, not-ready ones neither), so tests that think in Endpoints feed the slice-only node.</summary>
internal static class TestSlices
{
    public static List<V1EndpointSlice> Of(params V1Endpoints[] endpoints) =>
        endpoints.SelectMany(e => (e.Subsets ?? []).Select((subset, i) => new V1EndpointSlice
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"{e.Metadata.Name}-{i}", NamespaceProperty = e.Metadata.NamespaceProperty,
                Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = e.Metadata.Name },
            },
            AddressType = "IPv4",
            Endpoints = (subset.Addresses ?? []).Select(a => Endpoint(a, true))
                .Concat((subset.NotReadyAddresses ?? []).Select(a => Endpoint(a, false))).ToList(),
            Ports = (subset.Ports ?? []).Select(p => new Discoveryv1EndpointPort
            {
                Name = p.Name ?? "", Port = p.Port, Protocol = p.Protocol ?? "TCP", AppProtocol = p.AppProtocol,
            }).ToList(),
        })).ToList();

    private static V1Endpoint Endpoint(V1EndpointAddress address, bool ready) => new()
    {
        Addresses = [address.Ip],
        Conditions = new V1EndpointConditions { Ready = ready, Serving = ready, Terminating = false },
        NodeName = address.NodeName,
        Hostname = address.Hostname,
    };
}
