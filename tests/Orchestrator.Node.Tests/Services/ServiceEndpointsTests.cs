using System.Net;
using k8s.Models;
using Orchestrator.Node.Proxy;
using Orchestrator.Node.Services;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Services;

public sealed class ServiceEndpointsTests
{
    internal static V1EndpointSlice Slice(string name, string? service, string addressType, (string Name, int Port)[] ports,
        params V1Endpoint[] endpoints) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name, NamespaceProperty = "default",
            Labels = service is null ? null : new Dictionary<string, string> { ["kubernetes.io/service-name"] = service },
        },
        AddressType = addressType,
        Ports = ports.Select(p => new Discoveryv1EndpointPort { Name = p.Name, Port = p.Port, Protocol = "TCP" }).ToList(),
        Endpoints = endpoints.ToList(),
    };

    internal static V1Endpoint At(string ip, bool? ready = null, bool? serving = null, bool? terminating = null, string? node = null) => new()
    {
        Addresses = [ip],
        NodeName = node,
        Conditions = ready is null && serving is null && terminating is null
            ? null
            : new V1EndpointConditions { Ready = ready, Serving = serving, Terminating = terminating },
    };

    private static IReadOnlyList<string> Usable(ServiceEndpoints endpoints, string? port = "http", string? node = null) =>
        ServiceEndpoints.Usable(endpoints.Backends("default", "web", port, "TCP", node)).Select(b => b.HostPort).Order().ToList();

    [Fact]
    public void All_slices_labelled_with_the_service_are_merged()
    {
        var endpoints = ServiceEndpoints.From(
        [
            Slice("web-a", "web", "IPv4", [("http", 8080)], At("10.0.0.1")),
            Slice("web-b", "web", "IPv4", [("http", 8080)], At("10.0.0.2")),
            Slice("other", "other", "IPv4", [("http", 8080)], At("10.0.0.3")),
            Slice("unlabelled", null, "IPv4", [("http", 8080)], At("10.0.0.4")),
        ]);

        Assert.Equal(["10.0.0.1:8080", "10.0.0.2:8080"], Usable(endpoints));
    }

    [Fact]
    public void Endpoints_without_conditions_are_ready_and_not_ready_ones_are_left_out()
    {
        var endpoints = ServiceEndpoints.From([Slice("web-a", "web", "IPv4", [("http", 80)],
            At("10.0.0.1"), At("10.0.0.2", ready: true), At("10.0.0.3", ready: false), At("10.0.0.4", ready: false, serving: true))]);

        Assert.Equal(["10.0.0.1:80", "10.0.0.2:80"], Usable(endpoints));
    }

    [Fact]
    public void Serving_terminating_endpoints_are_used_only_when_none_is_ready()
    {
        var terminating = At("10.0.0.2", ready: false, serving: true, terminating: true);
        var gone = At("10.0.0.3", ready: false, serving: false, terminating: true);

        Assert.Equal(["10.0.0.1:80"], Usable(ServiceEndpoints.From([Slice("a", "web", "IPv4", [("http", 80)], At("10.0.0.1"), terminating, gone)])));
        Assert.Equal(["10.0.0.2:80"], Usable(ServiceEndpoints.From([Slice("a", "web", "IPv4", [("http", 80)], terminating, gone)])));
    }

    [Fact]
    public void A_port_is_matched_by_name_at_each_slices_own_number()
    {
        var endpoints = ServiceEndpoints.From(
        [
            Slice("web-a", "web", "IPv4", [("http", 8080), ("metrics", 9100)], At("10.0.0.1")),
            Slice("web-b", "web", "IPv4", [("http", 8081)], At("10.0.0.2")),
            Slice("web-c", "web", "IPv4", [("", 80)], At("10.0.0.3")),
        ]);

        Assert.Equal(["10.0.0.1:8080", "10.0.0.2:8081"], Usable(endpoints));
        Assert.Equal(["10.0.0.1:9100"], Usable(endpoints, "metrics"));
        Assert.Equal(["10.0.0.3:80"], Usable(endpoints, null));
        Assert.Empty(Usable(endpoints, "grpc"));
    }

    [Fact]
    public void An_address_in_several_slices_is_one_backend_and_the_local_copy_wins()
    {
        var endpoints = ServiceEndpoints.From(
        [
            Slice("web-a", "web", "IPv4", [("http", 80)], At("10.0.0.1")),
            Slice("web-b", "web", "IPv4", [("http", 80)], At("10.0.0.1", node: "n1")),
        ]);

        var backend = Assert.Single(endpoints.Backends("default", "web", "http", "TCP", "n1"));
        Assert.Equal(("10.0.0.1:80", "n1"), (backend.HostPort, backend.NodeName));
    }

    [Fact]
    public void Only_ipv4_slices_reach_the_proxy_and_fqdn_slices_are_ignored_everywhere()
    {
        var endpoints = ServiceEndpoints.From(
        [
            Slice("web-4", "web", "IPv4", [("http", 80)], At("10.0.0.1"), At("fd00::9")),
            Slice("web-6", "web", "IPv6", [("http", 80)], At("fd00::1")),
            Slice("web-f", "web", "FQDN", [("http", 80)], At("db.example.com")),
        ]);

        Assert.Equal(["10.0.0.1:80"], Usable(endpoints));
        Assert.Equal([IPAddress.Parse("10.0.0.1"), IPAddress.Parse("fd00::1")], endpoints.Endpoints("default", "web").Select(e => e.Address));
    }

    [Fact]
    public void The_local_ready_addresses_of_a_service_are_counted_once_and_are_its_local_backends()
    {
        var endpoints = ServiceEndpoints.From(
        [
            Slice("web-a", "web", "IPv4", [("http", 80), ("metrics", 9100)], At("10.0.0.1", node: "n1"), At("10.0.0.2", node: "n2"),
                At("10.0.0.3", ready: false, node: "n1")),
            Slice("web-b", "web", "IPv4", [("http", 80)], At("10.0.0.1", node: "n1")),
        ]);

        Assert.Equal(1, endpoints.LocalReadyAddresses("default", "web", "n1"));
        Assert.Equal(["10.0.0.1:80"], ServiceEndpoints.UsableOn(endpoints.Backends("default", "web", "http", "TCP", "n1"), "n1").Select(b => b.HostPort));
    }

    [Fact]
    public void A_selectorless_service_with_a_hand_written_slice_is_routed_through_its_node_port()
    {
        var service = new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1ServiceSpec { Type = "NodePort", Ports = [new V1ServicePort { Name = "http", Port = 80, Protocol = "TCP", NodePort = 30080 }] },
        };
        var plan = YarpConfigFromEndpoints.Build(new ServicesChanged(1, [service],
            [Slice("web-by-hand", "web", "IPv4", [("http", 8080)], At("10.0.0.1"), At("10.0.0.2", ready: false))]), IPAddress.Loopback);

        var listener = Assert.Single(plan.Listeners);
        Assert.Equal(30080, listener.EndPoint.Port);
        Assert.Equal(["10.0.0.1:8080"], plan.Clusters.Single(c => c.ClusterId == listener.ClusterId).Destinations!.Keys);
    }
}
