using k8s.Models;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>Lease and EndpointSlice bodies, as client-go's protobuf clients (leader election, endpoint slice
/// controllers) send them: hand-encoded with Kubernetes' field numbers.</summary>
public class CoordinationAndDiscoveryDecodingTests
{
    [Fact]
    public void A_lease_keeps_its_holder_duration_times_and_transitions()
    {
        var lease = Fixtures.Decode<V1Lease>(ProtoWriter.Envelope("coordination.k8s.io/v1", "Lease", new ProtoWriter()
            .Message(1, m => m.String(1, "operator-lock").String(3, "default"))
            .Message(2, s => s
                .String(1, "pod-a_1234") // holderIdentity
                .Varint(2, 15) // leaseDurationSeconds
                .Message(3, t => t.Varint(1, 1_764_000_000).Varint(2, 123_456_000)) // acquireTime
                .Message(4, t => t.Varint(1, 1_764_000_010)) // renewTime
                .Varint(5, 0)))); // leaseTransitions: a pointer, so zero is set

        Assert.Equal("operator-lock", lease.Metadata.Name);
        Assert.Equal(("pod-a_1234", 15, 0), (lease.Spec.HolderIdentity, lease.Spec.LeaseDurationSeconds, lease.Spec.LeaseTransitions));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_000_000).UtcDateTime.AddTicks(1_234_560), lease.Spec.AcquireTime);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_000_010).UtcDateTime, lease.Spec.RenewTime);
    }

    [Fact]
    public void An_endpoint_slice_keeps_endpoints_conditions_references_and_ports()
    {
        var slice = Fixtures.Decode<V1EndpointSlice>(ProtoWriter.Envelope("discovery.k8s.io/v1", "EndpointSlice", new ProtoWriter()
            .Message(1, m => m.String(1, "web-abc12").String(3, "default").Entry(11, "kubernetes.io/service-name", "web"))
            .Message(2, e => e
                .String(1, "10.244.0.7")
                .Message(2, c => c.Bool(1, true).Bool(2, true).Bool(3, false))
                .Message(4, r => r.String(1, "Pod").String(2, "default").String(3, "web-1").String(4, "uid-1"))
                .String(6, "node-a"))
            .Message(3, p => p.String(1, "http").String(2, "TCP").Varint(3, 8080))
            .String(4, "IPv4")));

        Assert.Equal("IPv4", slice.AddressType);
        Assert.Equal("web", slice.Metadata.Labels["kubernetes.io/service-name"]);
        var endpoint = Assert.Single(slice.Endpoints);
        Assert.Equal(["10.244.0.7"], endpoint.Addresses);
        Assert.Equal((true, true, false), (endpoint.Conditions.Ready, endpoint.Conditions.Serving, endpoint.Conditions.Terminating));
        Assert.Equal(("Pod", "web-1", "uid-1"), (endpoint.TargetRef.Kind, endpoint.TargetRef.Name, endpoint.TargetRef.Uid));
        Assert.Equal("node-a", endpoint.NodeName);
        var port = Assert.Single(slice.Ports);
        Assert.Equal(("http", "TCP", 8080), (port.Name, port.Protocol, port.Port));
    }
}
