using Orchestrator.Node.Tests.Services;
using System.Net;
using k8s.Models;
using Orchestrator.Node.Proxy;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Proxy;

public sealed class ClusterIpPlanTests
{
    private static readonly IPAddress Node = IPAddress.Parse("127.0.0.1");

    private static V1Service Redis(string? appProtocol = null, string? affinity = null)
    {
        var service = YarpConfigFromEndpointsTests.Service("redis-master", port: 6379);
        service.Spec.ClusterIP = "172.28.128.3";
        service.Spec.Ports[0].AppProtocol = appProtocol;
        service.Spec.SessionAffinity = affinity;
        return service;
    }

    private static ServicesChanged With(V1Service service) =>
        new(1, [service], TestSlices.Of(YarpConfigFromEndpointsTests.Endpoints(service.Metadata.Name, null, 6379, ["172.28.0.5", "172.28.0.6"], ["172.28.0.7"])));

    [Fact]
    public void A_cluster_ip_gets_a_listener_at_the_service_port_and_is_reported_as_an_address_to_add()
    {
        var plan = YarpConfigFromEndpoints.Build(With(Redis()), Node, clusterIps: true);

        var listener = Assert.Single(plan.Listeners);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("172.28.128.3"), 6379), listener.EndPoint);
        Assert.Equal([IPAddress.Parse("172.28.128.3")], plan.ClusterIps);
    }

    [Fact]
    public void Without_cluster_ip_support_no_cluster_ip_listener_is_planned()
    {
        var plan = YarpConfigFromEndpoints.Build(With(Redis()), Node);
        Assert.Empty(plan.Listeners);
        Assert.Empty(plan.ClusterIps);
    }

    [Fact]
    public void The_tcp_route_has_only_ready_backends_and_the_affinity()
    {
        var plan = YarpConfigFromEndpoints.Build(With(Redis(affinity: "ClientIP")), Node, clusterIps: true);

        var route = plan.TcpRoutes[plan.Listeners[0].ClusterId];
        Assert.Equal(["172.28.0.5:6379", "172.28.0.6:6379"], route.Backends.Select(b => b.ToString()).Order());
        Assert.True(route.ClientIpAffinity);
        Assert.Equal(ProxyMode.Tcp, route.Mode);
    }

    // as kube-proxy, which forwards every port at L4: YARP only where appProtocol says clear-text HTTP (the pod ends
    // TLS itself: the proxy cannot read https or wss)
    [Theory]
    [InlineData(null, ProxyMode.Tcp)]
    [InlineData("", ProxyMode.Tcp)]
    [InlineData("http", ProxyMode.Http)]
    [InlineData("HTTP", ProxyMode.Http)]
    [InlineData("kubernetes.io/h2c", ProxyMode.Tcp)] // HTTP/2 with prior knowledge, passed through
    [InlineData("kubernetes.io/ws", ProxyMode.Http)]
    [InlineData("https", ProxyMode.Tcp)]
    [InlineData("kubernetes.io/wss", ProxyMode.Tcp)]
    [InlineData("redis", ProxyMode.Tcp)]
    [InlineData("tcp", ProxyMode.Tcp)]
    public void App_protocol_decides_the_mode(string? appProtocol, ProxyMode mode) =>
        Assert.Equal(mode, YarpConfigFromEndpoints.ModeOf(appProtocol));

    [Theory]
    [InlineData("redis")]
    [InlineData(null)]
    public void Only_http_ports_are_probed_with_http(string? appProtocol)
    {
        var l4 = YarpConfigFromEndpoints.Build(With(Redis(appProtocol)), Node, clusterIps: true);
        var http = YarpConfigFromEndpoints.Build(With(Redis(appProtocol: "http")), Node, clusterIps: true);

        Assert.Null(l4.Clusters.Single(c => c.ClusterId == l4.Listeners[0].ClusterId).HealthCheck!.Active);
        Assert.True(http.Clusters.Single(c => c.ClusterId == http.Listeners[0].ClusterId).HealthCheck!.Active!.Enabled);
        Assert.True(l4.Clusters.Single(c => c.ClusterId == l4.Listeners[0].ClusterId).HealthCheck!.Passive!.Enabled);
    }

    [Theory]
    [InlineData(null, "RoundRobin")]
    [InlineData("leastrequests", "LeastRequests")]
    [InlineData("PowerOfTwoChoices", "PowerOfTwoChoices")]
    [InlineData("nonsense", "RoundRobin")]
    public void An_annotation_picks_the_balancing_policy(string? annotation, string policy)
    {
        var service = Redis();
        if (annotation is not null)
            service.Metadata.Annotations = new Dictionary<string, string> { [YarpConfigFromEndpoints.BalancingPolicyAnnotation] = annotation };
        var plan = YarpConfigFromEndpoints.Build(With(service), Node, clusterIps: true);
        Assert.Equal(policy, plan.Clusters.Single(c => c.ClusterId == plan.Listeners[0].ClusterId).LoadBalancingPolicy);
    }

    [Fact]
    public void Client_ip_affinity_overrides_the_annotation()
    {
        var service = Redis(affinity: "ClientIP");
        service.Metadata.Annotations = new Dictionary<string, string> { [YarpConfigFromEndpoints.BalancingPolicyAnnotation] = "Random" };
        var plan = YarpConfigFromEndpoints.Build(With(service), Node, clusterIps: true);
        Assert.Equal(ClientIpLoadBalancingPolicy.PolicyName, plan.Clusters.Single(c => c.ClusterId == plan.Listeners[0].ClusterId).LoadBalancingPolicy);
    }
}
