using Orchestrator.Node.Tests.Services;
using System.Net;
using k8s.Models;
using Orchestrator.Node.Proxy;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Proxy;

public sealed class YarpConfigFromEndpointsTests
{
    private static readonly IPAddress Node = IPAddress.Parse("127.0.0.1");

    internal static V1Service Service(string name, string type = "ClusterIP", int port = 80, int? nodePort = null, string? portName = null,
        string? appProtocol = null, params string[] externalIps) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1ServiceSpec
        {
            Type = type,
            ExternalIPs = externalIps.Length == 0 ? null : externalIps,
            Ports = [new V1ServicePort { Name = portName, Port = port, NodePort = nodePort, Protocol = "TCP", TargetPort = 80, AppProtocol = appProtocol }],
        },
    };

    internal static V1Endpoints Endpoints(string name, string? portName, int port, string[] ready, string[]? notReady = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Subsets =
        [
            new V1EndpointSubset
            {
                Addresses = ready.Select(ip => new V1EndpointAddress { Ip = ip }).ToList(),
                NotReadyAddresses = notReady?.Select(ip => new V1EndpointAddress { Ip = ip }).ToList(),
                Ports = [new Corev1EndpointPort { Name = portName, Port = port, Protocol = "TCP" }],
            },
        ],
    };

    [Fact]
    public void A_NodePort_service_listens_on_the_node_address_and_balances_over_ready_endpoints()
    {
        var plan = YarpConfigFromEndpoints.Build(new ServicesChanged(1,
            [Service("web", "NodePort", nodePort: 30080)],
            TestSlices.Of(Endpoints("web", null, 8080, ["172.18.0.2", "172.18.0.3"], notReady: ["172.18.0.4"]))), Node);

        var listener = Assert.Single(plan.Listeners);
        Assert.Equal(new IPEndPoint(Node, 30080), listener.EndPoint);
        var cluster = plan.Clusters.Single(c => c.ClusterId == listener.ClusterId);
        Assert.Equal(["http://172.18.0.2:8080", "http://172.18.0.3:8080"], cluster.Destinations!.Values.Select(d => d.Address).Order());
        Assert.Equal("RoundRobin", cluster.LoadBalancingPolicy);
    }

    [Fact]
    public void A_ClusterIP_service_gets_no_node_port_listener()
    {
        var plan = YarpConfigFromEndpoints.Build(new ServicesChanged(1, [Service("web", nodePort: 30080)], []), Node);
        Assert.Empty(plan.Listeners);
    }

    [Fact]
    public void Loopback_external_IPs_get_a_listener_at_the_service_port_and_other_addresses_are_skipped()
    {
        var plan = YarpConfigFromEndpoints.Build(new ServicesChanged(1,
            [Service("web", port: 8000, externalIps: ["127.0.0.50", "192.0.2.10"])], []), Node);

        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.50"), 8000), Assert.Single(plan.Listeners).EndPoint);
        Assert.Contains(plan.Skipped, s => s.Contains("192.0.2.10"));
    }

    [Fact]
    public void Endpoint_ports_are_matched_to_service_ports_by_name()
    {
        var service = Service("web", "NodePort", nodePort: 30081, portName: "http");
        service.Spec.Ports.Add(new V1ServicePort { Name = "metrics", Port = 9090, NodePort = 30082, Protocol = "TCP" });
        var endpoints = Endpoints("web", "http", 8080, ["172.18.0.2"]);
        endpoints.Subsets[0].Ports.Add(new Corev1EndpointPort { Name = "metrics", Port = 9100 });

        var plan = YarpConfigFromEndpoints.Build(new ServicesChanged(1, [service], TestSlices.Of(endpoints)), Node);

        string Destination(int nodePort) => plan.Clusters
            .Single(c => c.ClusterId == plan.Listeners.Single(l => l.EndPoint.Port == nodePort).ClusterId)
            .Destinations!.Values.Single().Address;
        Assert.Equal("http://172.18.0.2:8080", Destination(30081));
        Assert.Equal("http://172.18.0.2:9100", Destination(30082));
    }

    [Fact]
    public void A_listener_already_taken_by_another_service_is_skipped()
    {
        var plan = YarpConfigFromEndpoints.Build(new ServicesChanged(1,
            [Service("a", "NodePort", nodePort: 30090), Service("b", "NodePort", nodePort: 30090)], []), Node);
        Assert.Equal("default/a", Assert.Single(plan.Listeners).Service);
        Assert.Contains(plan.Skipped, s => s.StartsWith("default/b"));
    }
}
