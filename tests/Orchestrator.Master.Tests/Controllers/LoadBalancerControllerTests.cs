using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Controllers.LoadBalancers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Orchestrator.Shared.Api;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class LoadBalancerControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private static V1Service Service(string name, string type = "LoadBalancer", string? lbClass = null, string? ip = null) => new()
    {
        ApiVersion = "v1", Kind = "Service",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1ServiceSpec
        {
            Type = type, LoadBalancerClass = lbClass, LoadBalancerIP = ip,
            Ports = [new V1ServicePort { Port = 80, Protocol = "TCP" }],
        },
    };

    private string? AddressOf(string name) => Find<V1Service>(name)?.Status?.LoadBalancer?.Ingress?.FirstOrDefault()?.Ip;

    [Fact]
    public void LoadBalancer_services_get_distinct_pool_addresses_and_another_class_is_left_alone()
    {
        Seed(Service("one"));
        Seed(Service("two"));
        Seed(Service("wanted", ip: "127.0.100.77"));
        Seed(Service("theirs", lbClass: "example.com/lb"));
        Sys.ActorOf(LoadBalancerController.Props(Store, LoadBalancerPool.Parse("127.0.100.0/24"), Resync));
        AwaitAssert(() =>
        {
            Assert.NotNull(AddressOf("one"));
            Assert.NotNull(AddressOf("two"));
            Assert.Equal("127.0.100.77", AddressOf("wanted"));
        });
        Assert.NotEqual(AddressOf("one"), AddressOf("two"));
        Assert.StartsWith("127.0.100.", AddressOf("one"));
        Assert.Null(AddressOf("theirs"));
    }

    [Fact]
    public void The_address_is_released_when_the_service_stops_being_a_LoadBalancer()
    {
        Seed(Service("web"));
        Sys.ActorOf(LoadBalancerController.Props(Store, LoadBalancerPool.Parse("127.0.100.0/24"), Resync));
        AwaitAssert(() => Assert.NotNull(AddressOf("web")));

        var service = KubeObjects.Clone(Find<V1Service>("web")!);
        service.Spec.Type = "ClusterIP";
        foreach (var port in service.Spec.Ports) port.NodePort = null;
        service.Spec.AllocateLoadBalancerNodePorts = null;
        service.Spec.ExternalTrafficPolicy = null;
        Write(new UpdateObject("services", service));
        AwaitAssert(() => Assert.Null(AddressOf("web")));
    }

    [Fact]
    public void A_requested_address_outside_the_pool_gets_none()
    {
        Seed(Service("outside", ip: "10.9.9.9"));
        Seed(Service("inside"));
        Sys.ActorOf(LoadBalancerController.Props(Store, LoadBalancerPool.Parse("127.0.100.0/24"), Resync));
        AwaitAssert(() => Assert.NotNull(AddressOf("inside")));
        Assert.Null(AddressOf("outside"));
    }
}
