using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Controllers.Endpoints;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers;

/// <summary>The EndpointSlice controller's zones and hints, through the store: endpoints take their node's zone label,
/// PreferClose and topology-mode Auto hint them, and a node's label change re-syncs its endpoints' slices.</summary>
public sealed class EndpointSliceTopologyTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private static V1Node Node(string name, string? zone) => new()
    {
        ApiVersion = "v1", Kind = "Node",
        Metadata = new V1ObjectMeta
        {
            Name = name, Labels = zone is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [ZoneCapacity.ZoneLabel] = zone },
        },
        Status = new V1NodeStatus
        {
            Allocatable = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("2") },
            Conditions = [new V1NodeCondition { Type = "Ready", Status = "True" }],
        },
    };

    private static V1Service Service(string? trafficDistribution, Dictionary<string, string>? annotations = null) => new()
    {
        ApiVersion = "v1", Kind = "Service",
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", Annotations = annotations },
        Spec = new V1ServiceSpec
        {
            Selector = new Dictionary<string, string> { ["app"] = "web" }, TrafficDistribution = trafficDistribution,
            Ports = [new V1ServicePort { Name = "http", Port = 80, Protocol = "TCP" }],
        },
    };

    private static V1Endpoints Endpoints(params (string Ip, string Node)[] addresses) => new()
    {
        ApiVersion = "v1", Kind = "Endpoints", Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
        Subsets =
        [
            new V1EndpointSubset
            {
                Addresses = addresses.Select(a => new V1EndpointAddress { Ip = a.Ip, NodeName = a.Node }).ToList(),
                Ports = [new Corev1EndpointPort { Name = "http", Port = 8080 }],
            },
        ],
    };

    private (string?, string?)[] Endpoints() =>
        Assert.Single(All<V1EndpointSlice>()).Endpoints
            .Select(e => ((string?)e.Zone, e.Hints is null ? null : string.Join(",", e.Hints.ForZones.Select(z => z.Name)))).ToArray();

    [Fact]
    public void Prefer_close_endpoints_carry_their_nodes_zone_and_a_hint_for_it()
    {
        Seed(Node("n1", "zone-a"));
        Seed(Node("n2", "zone-b"));
        Seed(Service("PreferClose"));
        Seed(Endpoints(("10.4.0.1", "n1"), ("10.4.0.2", "n2")));
        Sys.ActorOf(EndpointSliceController.Props(Store, Resync));

        AwaitAssert(() => Assert.Equal([("zone-a", "zone-a"), ("zone-b", "zone-b")], Endpoints()));
    }

    [Fact]
    public void A_service_without_a_distribution_gets_zones_and_no_hints()
    {
        Seed(Node("n1", "zone-a"));
        Seed(Service(null));
        Seed(Endpoints(("10.4.0.1", "n1"), ("10.4.0.2", "unknown-node")));
        Sys.ActorOf(EndpointSliceController.Props(Store, Resync));

        AwaitAssert(() => Assert.Equal([("zone-a", null), (null, null)], Endpoints()));
    }

    [Fact]
    public void A_nodes_zone_label_change_resyncs_the_slices_of_its_endpoints()
    {
        Seed(Node("n1", "zone-a"));
        Seed(Service("PreferClose"));
        Seed(Endpoints(("10.4.0.1", "n1")));
        Sys.ActorOf(EndpointSliceController.Props(Store, Resync));
        AwaitAssert(() => Assert.Equal([("zone-a", "zone-a")], Endpoints()));

        var node = Find<V1Node>("n1")!;
        node.Metadata.Labels[ZoneCapacity.ZoneLabel] = "zone-c";
        Write(new Orchestrator.Master.Store.UpdateObject("nodes", node));
        AwaitAssert(() => Assert.Equal([("zone-c", "zone-c")], Endpoints()));

        node = Find<V1Node>("n1")!;
        node.Metadata.Labels.Remove(ZoneCapacity.ZoneLabel);
        Write(new Orchestrator.Master.Store.UpdateObject("nodes", node));
        AwaitAssert(() => Assert.Equal([(null, null)], Endpoints()));
    }

    [Fact]
    public void Auto_hints_appear_when_a_second_zone_gets_a_node_and_an_event_says_so()
    {
        Seed(Node("n1", "zone-a"));
        Seed(Node("n2", "zone-a"));
        Seed(Service(null, new Dictionary<string, string> { [TopologyHints.TopologyModeAnnotation] = "Auto" }));
        Seed(Endpoints(("10.4.0.1", "n1"), ("10.4.0.2", "n2")));
        Sys.ActorOf(EndpointSliceController.Props(Store, Resync));
        AwaitAssert(() =>
        {
            Assert.Equal([("zone-a", null), ("zone-a", null)], Endpoints());
            Assert.Contains(All<Corev1Event>(), e => e.Reason == "TopologyAwareHintsDisabled" && e.Message == ZoneHintAllocation.InsufficientNodeInfo + ", addressType: IPv4");
        });

        // n2 moves to zone-b: two zones of equal CPU, one endpoint each
        var n2 = Find<V1Node>("n2")!;
        n2.Metadata.Labels[ZoneCapacity.ZoneLabel] = "zone-b";
        Write(new Orchestrator.Master.Store.UpdateObject("nodes", n2));
        AwaitAssert(() =>
        {
            Assert.Equal([("zone-a", "zone-a"), ("zone-b", "zone-b")], Endpoints());
            var enabled = Assert.Single(All<Corev1Event>(), e => e.Reason == "TopologyAwareHintsEnabled");
            Assert.Equal(("Normal", "Topology Aware Hints has been enabled, addressType: IPv4", EndpointSliceController.Component),
                (enabled.Type, enabled.Message, enabled.Source.Component));
        });
    }
}
