using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Controllers.Endpoints;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class EndpointsControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private static V1Service Service(string name, string app, IntOrString? targetPort = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1ServiceSpec
        {
            Type = "NodePort",
            Selector = new Dictionary<string, string> { ["app"] = app },
            Ports = [new V1ServicePort { Name = "http", Port = 80, NodePort = 30080, Protocol = "TCP", TargetPort = targetPort }],
        },
    };

    private static V1ContainerPort Named(string name, int port) => new() { Name = name, ContainerPort = port, Protocol = "TCP" };

    [Fact]
    public void Ready_pods_are_addresses_and_the_others_not_ready_addresses_with_named_ports_resolved()
    {
        var pods = new[]
        {
            Pod("b", App("web"), "n1", "Running", ready: true, podIp: "172.18.0.3", ports: Named("web", 8080)),
            Pod("a", App("web"), "n1", "Running", ready: true, podIp: "172.18.0.2", ports: Named("web", 8080)),
            Pod("starting", App("web"), "n1", "Running", ready: false, podIp: "172.18.0.4", ports: Named("web", 8080)),
            Pod("no-ip", App("web"), "n1", "Pending"),
            Pod("other", App("db"), "n1", "Running", ready: true, podIp: "172.18.0.9"),
        };

        var endpoints = EndpointsBuilder.Build(Service("web-svc", "web", "web"), pods);

        var subset = Assert.Single(endpoints.Subsets);
        Assert.Equal(["172.18.0.2", "172.18.0.3"], subset.Addresses.Select(a => a.Ip));
        Assert.Equal(["starting"], subset.NotReadyAddresses.Select(a => a.TargetRef.Name));
        Assert.Equal(("Pod", "n1"), (subset.Addresses[0].TargetRef.Kind, subset.Addresses[0].NodeName));
        var port = Assert.Single(subset.Ports);
        Assert.Equal(("http", 8080, "TCP"), (port.Name, port.Port, port.Protocol));
        Assert.Equal("web-svc", endpoints.Metadata.Name);
    }

    [Fact]
    public void A_pod_without_the_named_port_is_left_out()
    {
        var endpoints = EndpointsBuilder.Build(Service("web-svc", "web", "web"),
            [Pod("a", App("web"), "n1", "Running", ready: true, podIp: "172.18.0.2")]);
        Assert.Null(endpoints.Subsets);
    }

    [Fact]
    public void Endpoints_follow_pod_readiness_and_go_with_their_service()
    {
        Seed(Service("webapp1-svc", "webapp1", 80));
        var pod = Seed(Pod("webapp1-x", App("webapp1"), "n1", "Running", ready: false, podIp: "172.18.0.2"));
        Sys.ActorOf(EndpointsController.Props(Store, Resync));

        AwaitAssert(() =>
            Assert.Equal("172.18.0.2", Find<V1Endpoints>("webapp1-svc")?.Subsets?.Single().NotReadyAddresses?.Single().Ip));

        var ready = Find<V1Pod>("webapp1-x")!;
        ready.Status.Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }];
        Write(new UpdateObject("pods", ready, "status"));
        AwaitAssert(() =>
        {
            var subset = Find<V1Endpoints>("webapp1-svc")!.Subsets.Single();
            Assert.Equal("172.18.0.2", subset.Addresses?.Single().Ip);
            Assert.Null(subset.NotReadyAddresses);
            Assert.Equal(80, subset.Ports.Single().Port);
        });

        Write(new DeleteObject(new ResourceKey("services", "default", "webapp1-svc")));
        AwaitAssert(() => Assert.Null(Find<V1Endpoints>("webapp1-svc")));
        Assert.NotNull(pod);
    }

    [Fact]
    public void An_unrelated_pod_change_writes_nothing()
    {
        Seed(Service("webapp1-svc", "webapp1", 80));
        Seed(Pod("webapp1-x", App("webapp1"), "n1", "Running", ready: true, podIp: "172.18.0.2"));
        Sys.ActorOf(EndpointsController.Props(Store, Resync));
        Writes.FishForMessage<CreateObject>(c => c.Resource == "endpoints");
        // the start's writes settle first: the service's key may be reconciled once more (for the pod's list) before
        // the controller's cache has its own Endpoints, a second create the store refuses as AlreadyExists
        AwaitAssert(() => Assert.NotNull(Find<V1Endpoints>("webapp1-svc")));
        Writes.ReceiveWhile(TimeSpan.FromMilliseconds(500), m => m);

        var pod = Find<V1Pod>("webapp1-x")!;
        pod.Metadata.Annotations = new Dictionary<string, string> { ["touched"] = "yes" };
        Write(new UpdateObject("pods", pod));
        Writes.FishForMessage<UpdateObject>(u => u.Resource == "pods"); // our own write, echoed
        Writes.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
    }

    private static V1Endpoints BareEndpoints(string name, Dictionary<string, string>? annotations = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Endpoints",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Annotations = annotations },
    };

    [Fact]
    public void An_endpoints_without_a_service_is_deleted_only_as_a_leftover_at_start_and_never_when_it_holds_a_leader_record()
    {
        Seed(BareEndpoints("stale"));
        Seed(BareEndpoints("election", new Dictionary<string, string> { [EndpointsController.LeaderAnnotation] = """{"holderIdentity":"a"}""" }));
        Sys.ActorOf(EndpointsController.Props(Store, Resync));
        AwaitAssert(() => Assert.Null(Find<V1Endpoints>("stale")));

        // Made before its Service, as a manifest listing it first does: the Service's arrival finds it and fills it in.
        Write(new CreateObject("endpoints", BareEndpoints("web-svc")));
        Seed(Pod("web-1", App("web"), "n1", "Running", ready: true, podIp: "172.18.0.2"));
        Write(new CreateObject("services", Service("web-svc", "web", 80)));
        var first = Writes.FishForMessage(m =>
            (m is DeleteObject d && d.Key.Name == "web-svc") || (m is UpdateObject u && u.Resource == "endpoints" && u.Object.Metadata.Name == "web-svc"));
        Assert.IsType<UpdateObject>(first);
        Assert.NotNull(Find<V1Endpoints>("election"));

        // Its Service deleted, it goes.
        Write(new DeleteObject(new ResourceKey("services", "default", "web-svc")));
        AwaitAssert(() => Assert.Null(Find<V1Endpoints>("web-svc")));
    }
}
