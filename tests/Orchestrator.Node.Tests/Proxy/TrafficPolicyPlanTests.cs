using System.Net;
using k8s.Models;
using Orchestrator.Node.Proxy;
using Orchestrator.Node.Services;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Proxy;

/// <summary>Traffic policies, zone hints, session affinity and the clients' nodes in the proxy's plan, without sockets.</summary>
public sealed class TrafficPolicyPlanTests
{
    private static readonly IPAddress Node = IPAddress.Parse("127.0.0.1");

    private static V1Service Service(string? internalPolicy = null, string? affinity = null, int? timeoutSeconds = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
        Spec = new V1ServiceSpec
        {
            ClusterIP = "172.28.128.9", InternalTrafficPolicy = internalPolicy, SessionAffinity = affinity,
            SessionAffinityConfig = timeoutSeconds is null ? null : new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = timeoutSeconds } },
            Ports = [new V1ServicePort { Port = 80, Protocol = "TCP" }],
        },
    };

    private static V1Endpoint Endpoint(string ip, string node, bool ready = true, bool terminating = false) => new()
    {
        Addresses = [ip], NodeName = node, Conditions = new V1EndpointConditions { Ready = ready, Serving = true, Terminating = terminating },
    };

    private static V1EndpointSlice Slice(params V1Endpoint[] endpoints) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "web-1", NamespaceProperty = "default", Labels = new Dictionary<string, string> { [ServiceEndpoints.ServiceNameLabel] = "web" },
        },
        AddressType = "IPv4", Endpoints = endpoints.ToList(), Ports = [new Discoveryv1EndpointPort { Name = "", Port = 8080, Protocol = "TCP" }],
    };

    private static IEnumerable<string> Destinations(ProxyPlan plan, string clusterId) =>
        plan.Clusters.Single(c => c.ClusterId == clusterId).Destinations!.Keys.Order();

    [Fact]
    public void Internal_traffic_policy_Local_gives_the_cluster_ip_listener_one_cluster_per_node_chosen_as_kube_proxy_chooses_local_endpoints()
    {
        // n1: one ready endpoint and one terminating; n2: only a serving terminating one (kube-proxy falls back to it
        // for n2's clients although other nodes have ready ones); n3: a terminating one that no longer serves
        var slice = Slice(Endpoint("172.28.1.2", "n1"), Endpoint("172.28.1.3", "n1", ready: false, terminating: true),
            Endpoint("172.28.2.2", "n2", ready: false, terminating: true), Endpoint("172.28.3.2", "n3", ready: false, terminating: true));
        slice.Endpoints[3].Conditions.Serving = false;
        var plan = YarpConfigFromEndpoints.Build(new ServicesChanged(1, [Service("Local")], [slice]), Node, clusterIps: true, nodeName: "n1");

        var listener = Assert.Single(plan.Listeners);
        Assert.True(listener.ByClientNode);
        Assert.Equal("default/web:80", listener.ClusterId);
        Assert.Equal(["172.28.1.2:8080"], Destinations(plan, "default/web:80/node/n1"));
        Assert.Equal(["172.28.2.2:8080"], Destinations(plan, "default/web:80/node/n2"));
        Assert.Empty(Destinations(plan, "default/web:80/node/n3"));
        Assert.Equal(["172.28.2.2:8080"], plan.TcpRoutes["default/web:80/node/n2"].Backends.Select(b => b.ToString()));
        Assert.Equal(["172.28.1.2:8080"], Destinations(plan, "default/web:80")); // the cluster-wide set, as before
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Cluster")]
    public void Internal_traffic_policy_Cluster_keeps_one_cluster_for_every_client(string? policy)
    {
        var plan = YarpConfigFromEndpoints.Build(new ServicesChanged(1, [Service(policy)], [Slice(Endpoint("172.28.1.2", "n1"), Endpoint("172.28.2.2", "n2"))]),
            Node, clusterIps: true, nodeName: "n1");

        Assert.False(Assert.Single(plan.Listeners).ByClientNode);
        Assert.DoesNotContain(plan.Clusters, c => c.ClusterId.Contains("/node/"));
    }

    [Fact]
    public void Client_ip_affinity_carries_the_timeout_and_the_port_to_both_paths()
    {
        var plan = YarpConfigFromEndpoints.Build(new ServicesChanged(1, [Service("Local", "ClientIP", timeoutSeconds: 60)], [Slice(Endpoint("172.28.1.2", "n1"))]),
            Node, clusterIps: true, nodeName: "n1");

        foreach (var id in new[] { "default/web:80", "default/web:80/node/n1" })
        {
            var cluster = plan.Clusters.Single(c => c.ClusterId == id);
            Assert.Equal(ClientIpLoadBalancingPolicy.PolicyName, cluster.LoadBalancingPolicy);
            Assert.Equal("default/web:80", cluster.Metadata![ClientIpLoadBalancingPolicy.PortMetadata]);
            Assert.Equal("60", cluster.Metadata[ClientIpLoadBalancingPolicy.TimeoutMetadata]);
            Assert.Equal(TimeSpan.FromSeconds(60), plan.TcpRoutes[id].AffinityTimeout);
            Assert.Equal("default/web:80", plan.TcpRoutes[id].AffinityPort);
        }
        Assert.Equal(["default/web:80"], plan.AffinityPorts);
    }

    [Theory]
    [InlineData("ClientIP", null, 10800)]
    [InlineData("ClientIP", 1, 1)]
    [InlineData("ClientIP", 86400, 86400)]
    [InlineData("None", null, null)]
    [InlineData(null, null, null)]
    public void The_affinity_timeout_is_the_services_or_kubernetes_default(string? affinity, int? seconds, int? expected)
    {
        Assert.Equal(expected is null ? null : TimeSpan.FromSeconds(expected.Value), ClientIpAffinity.TimeoutOf(Service(affinity: affinity, timeoutSeconds: seconds)));
    }

    [Fact]
    public void A_client_is_on_the_node_whose_pod_range_holds_its_address()
    {
        var nodes = ClientNodes.From([new NodePodRange("wide", "172.28.0.0/17"), new NodePodRange("n1", "172.28.1.0/24"), new NodePodRange("bad", "nonsense"),
            new NodePodRange("v6", "fd00::/64")]);

        Assert.Equal("n1", nodes.NodeOf(IPAddress.Parse("172.28.1.7")));
        Assert.Equal("n1", nodes.NodeOf(IPAddress.Parse("172.28.1.7").MapToIPv6()));
        Assert.Equal("wide", nodes.NodeOf(IPAddress.Parse("172.28.2.7"))); // the narrowest range that holds it
        Assert.Null(nodes.NodeOf(IPAddress.Parse("127.0.0.1")));
        Assert.Null(nodes.NodeOf(IPAddress.Parse("fd00::1")));
        Assert.Null(ClientNodes.From(null).NodeOf(IPAddress.Parse("172.28.1.7")));
    }

    [Fact]
    public void The_pod_ranges_reach_the_plan()
    {
        var plan = YarpConfigFromEndpoints.Build(new ServicesChanged(1, [], [], PodRanges: [new NodePodRange("n2", "172.28.2.0/24")]), Node);
        Assert.Equal("n2", plan.ClientNodes.NodeOf(IPAddress.Parse("172.28.2.9")));
    }

    private static V1Endpoint Hinted(string ip, string node, params string[] zones)
    {
        var endpoint = Endpoint(ip, node);
        endpoint.Hints = new V1EndpointHints { ForZones = zones.Select(z => new V1ForZone { Name = z }).ToList() };
        return endpoint;
    }

    private static readonly IReadOnlyList<NodeZone> Zones = [new("n1", "zone-a"), new("n2", "zone-b")];

    private static ProxyPlan Plan(V1Service service, V1EndpointSlice slice, IReadOnlyList<NodeZone>? zones, bool clusterIps = false) =>
        YarpConfigFromEndpoints.Build(new ServicesChanged(1, [service], [slice], PodRanges: [new("n1", "172.28.1.0/24"), new("n2", "172.28.2.0/24")],
            NodeZones: zones), Node, clusterIps, nodeName: "n1");

    [Fact]
    public void Cluster_traffic_takes_the_endpoints_hinted_for_the_nodes_zone()
    {
        var plan = Plan(Service(), Slice(Hinted("172.28.1.2", "n1", "zone-a"), Hinted("172.28.2.2", "n2", "zone-b"),
            Hinted("172.28.2.3", "n2", "zone-a")), Zones);
        Assert.Equal(["172.28.1.2:8080", "172.28.2.3:8080"], Destinations(plan, "default/web:80"));
        Assert.Equal(["172.28.1.2:8080", "172.28.2.3:8080"], plan.TcpRoutes["default/web:80"].Backends.Select(b => b.ToString()).Order());
    }

    [Fact]
    public void A_ready_endpoint_without_a_hint_makes_every_endpoint_take_traffic()
    {
        var plan = Plan(Service(), Slice(Hinted("172.28.1.2", "n1", "zone-a"), Endpoint("172.28.2.2", "n2")), Zones);
        Assert.Equal(["172.28.1.2:8080", "172.28.2.2:8080"], Destinations(plan, "default/web:80"));
    }

    [Fact]
    public void Hints_are_ignored_when_none_is_for_the_nodes_zone_or_the_node_has_no_zone()
    {
        var slice = Slice(Hinted("172.28.2.2", "n2", "zone-b"), Hinted("172.28.2.3", "n2", "zone-b"));
        Assert.Equal(["172.28.2.2:8080", "172.28.2.3:8080"], Destinations(Plan(Service(), slice, Zones), "default/web:80"));
        var hintedForA = Slice(Hinted("172.28.1.2", "n1", "zone-a"), Hinted("172.28.2.2", "n2", "zone-b"));
        Assert.Equal(["172.28.1.2:8080", "172.28.2.2:8080"], Destinations(Plan(Service(), hintedForA, zones: null), "default/web:80"));
    }

    [Fact]
    public void A_not_ready_endpoint_needs_no_hint_and_gets_no_traffic()
    {
        var slice = Slice(Hinted("172.28.1.2", "n1", "zone-a"), Hinted("172.28.2.2", "n2", "zone-b"), Endpoint("172.28.1.9", "n1", ready: false));
        Assert.Equal(["172.28.1.2:8080"], Destinations(Plan(Service(), slice, Zones), "default/web:80"));
    }

    [Fact]
    public void With_hints_the_shared_cluster_ip_picks_by_the_clients_nodes_zone()
    {
        var plan = Plan(Service(), Slice(Hinted("172.28.1.2", "n1", "zone-a"), Hinted("172.28.2.2", "n2", "zone-b")), Zones, clusterIps: true);

        Assert.True(Assert.Single(plan.Listeners).ByClientNode);
        Assert.Equal(["172.28.1.2:8080"], Destinations(plan, "default/web:80/node/n1"));
        Assert.Equal(["172.28.2.2:8080"], Destinations(plan, "default/web:80/node/n2"));
    }

    [Fact]
    public void Without_hints_the_cluster_ip_keeps_one_cluster_for_every_client()
    {
        var plan = Plan(Service(), Slice(Endpoint("172.28.1.2", "n1"), Endpoint("172.28.2.2", "n2")), Zones, clusterIps: true);
        Assert.False(Assert.Single(plan.Listeners).ByClientNode);
    }

    [Fact]
    public void Internal_traffic_policy_Local_ignores_zone_hints()
    {
        var plan = Plan(Service("Local"), Slice(Hinted("172.28.1.2", "n1", "zone-b"), Hinted("172.28.2.2", "n2", "zone-a")), Zones, clusterIps: true);
        Assert.Equal(["172.28.1.2:8080"], Destinations(plan, "default/web:80/node/n1"));
        Assert.Equal(["172.28.2.2:8080"], Destinations(plan, "default/web:80/node/n2"));
    }

    [Fact]
    public void External_traffic_policy_Local_listeners_send_locally_originated_traffic_to_the_cluster_wide_endpoints()
    {
        var service = Service();
        service.Spec.Type = "NodePort";
        service.Spec.ExternalTrafficPolicy = "Local";
        service.Spec.Ports[0].NodePort = 30080;
        var plan = Plan(service, Slice(Endpoint("172.28.1.2", "n1"), Endpoint("172.28.2.2", "n2")), Zones);

        var nodePort = Assert.Single(plan.Listeners, l => l.EndPoint.Port == 30080);
        Assert.Equal(("default/web:80/local", "default/web:80"), (nodePort.ClusterId, nodePort.LocalOriginClusterId));
        Assert.Equal(["172.28.1.2:8080"], Destinations(plan, "default/web:80/local"));
        Assert.Equal(["172.28.1.2:8080", "172.28.2.2:8080"], Destinations(plan, "default/web:80"));
    }

    [Fact]
    public void External_traffic_policy_Cluster_listeners_have_no_separate_local_origin_cluster()
    {
        var service = Service();
        service.Spec.Type = "NodePort";
        service.Spec.Ports[0].NodePort = 30080;
        var plan = Plan(service, Slice(Endpoint("172.28.1.2", "n1")), Zones);
        Assert.Null(Assert.Single(plan.Listeners, l => l.EndPoint.Port == 30080).LocalOriginClusterId);
    }

    [Theory]
    [InlineData("ClusterIP")]
    [InlineData("NodePort")]
    public void External_traffic_policy_Local_holds_an_external_ip_to_this_nodes_endpoints_as_kube_proxy_holds_every_external_address(string type)
    {
        var service = Service();
        service.Spec.Type = type;
        service.Spec.ExternalTrafficPolicy = "Local";
        service.Spec.ExternalIPs = ["127.0.0.61"];
        if (type == "NodePort") service.Spec.Ports[0].NodePort = 30080;
        var plan = Plan(service, Slice(Endpoint("172.28.1.2", "n1"), Endpoint("172.28.2.2", "n2")), Zones);

        var external = Assert.Single(plan.Listeners, l => l.EndPoint.Equals(new IPEndPoint(IPAddress.Parse("127.0.0.61"), 80)));
        Assert.Equal(("default/web:80/local", "default/web:80"), (external.ClusterId, external.LocalOriginClusterId));
        Assert.Equal(["172.28.1.2:8080"], Destinations(plan, "default/web:80/local"));
        Assert.Equal(["172.28.1.2:8080", "172.28.2.2:8080"], Destinations(plan, "default/web:80"));
    }

    [Fact]
    public void An_external_ip_of_a_cluster_policy_service_takes_the_cluster_wide_endpoints()
    {
        var service = Service();
        service.Spec.ExternalIPs = ["127.0.0.61"];
        var plan = Plan(service, Slice(Endpoint("172.28.1.2", "n1"), Endpoint("172.28.2.2", "n2")), Zones);

        var external = Assert.Single(plan.Listeners, l => l.EndPoint.Address.Equals(IPAddress.Parse("127.0.0.61")));
        Assert.Equal(("default/web:80", (string?)null), (external.ClusterId, external.LocalOriginClusterId));
    }
}
