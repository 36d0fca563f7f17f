using k8s.Models;
using Orchestrator.Master.Controllers.Endpoints;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers;

/// <summary>The zone hints of EndpointSlices as Kubernetes 1.32's reconciler sets them: trafficDistribution PreferClose
/// (trafficdist) and topology-mode Auto (the topology cache's allocation by allocatable CPU).</summary>
public sealed class TopologyHintsTests
{
    private static V1Node Node(string name, string? zone, string cpu = "4", bool ready = true, string? role = null)
    {
        var labels = new Dictionary<string, string>();
        if (zone is not null) labels[ZoneCapacity.ZoneLabel] = zone;
        if (role is not null) labels[role] = "";
        return new V1Node
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = labels },
            Status = new V1NodeStatus
            {
                Allocatable = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu) },
                Conditions = [new V1NodeCondition { Type = "Ready", Status = ready ? "True" : "False" }],
            },
        };
    }

    private static V1Service Service(string? trafficDistribution = null, Dictionary<string, string>? annotations = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", Annotations = annotations },
        Spec = new V1ServiceSpec { TrafficDistribution = trafficDistribution },
    };

    private static Dictionary<string, string> Auto(string key = TopologyHints.TopologyModeAnnotation, string value = "Auto") => new() { [key] = value };

    private static V1EndpointSlice Slice(params (string? Zone, bool Ready)[] endpoints) => new()
    {
        AddressType = "IPv4",
        Endpoints = endpoints.Select((e, i) => new V1Endpoint
        {
            Addresses = [$"10.0.0.{i + 1}"], Zone = e.Zone, Conditions = new V1EndpointConditions { Ready = e.Ready },
        }).ToList(),
    };

    private static List<string?> Hints(V1EndpointSlice slice) =>
        slice.Endpoints.Select(e => e.Hints is null ? null : string.Join(",", e.Hints.ForZones.Select(z => z.Name))).ToList();

    private static readonly Func<ZoneCapacity> TwoEqualZones = () => ZoneCapacity.From([Node("a1", "a"), Node("b1", "b")]);

    [Fact]
    public void Prefer_close_hints_each_ready_endpoint_for_its_own_zone()
    {
        var slice = Slice(("a", true), ("b", true), ("a", false));
        TopologyHints.Apply(Service("PreferClose"), [slice], TwoEqualZones, out _);
        Assert.Equal(["a", "b", null], Hints(slice));
    }

    [Fact]
    public void Prefer_close_leaves_an_endpoint_without_a_zone_unhinted_and_still_hints_the_others()
    {
        var slice = Slice(("a", true), (null, true));
        TopologyHints.Apply(Service("PreferClose"), [slice], TwoEqualZones, out _);
        Assert.Equal(["a", null], Hints(slice));
    }

    [Fact]
    public void Without_a_distribution_or_annotation_no_endpoint_is_hinted()
    {
        var slice = Slice(("a", true));
        slice.Endpoints[0].Hints = TopologyHints.ForZone("a");
        TopologyHints.Apply(Service(), [slice], TwoEqualZones, out _);
        Assert.Equal([null], Hints(slice));
    }

    [Theory]
    [InlineData(TopologyHints.TopologyModeAnnotation, "Auto", true)]
    [InlineData(TopologyHints.TopologyModeAnnotation, "auto", true)]
    [InlineData(TopologyHints.TopologyModeAnnotation, "AUTO", false)]
    [InlineData(TopologyHints.DeprecatedTopologyAwareHintsAnnotation, "Auto", true)]
    public void The_topology_annotations_enable_auto_as_kubernetes_reads_them(string key, string value, bool enabled) =>
        Assert.Equal(enabled, TopologyHints.AutoEnabled(Service(annotations: Auto(key, value))));

    [Fact]
    public void The_deprecated_annotation_wins_over_topology_mode()
    {
        var annotations = new Dictionary<string, string>
        {
            [TopologyHints.DeprecatedTopologyAwareHintsAnnotation] = "Disabled", [TopologyHints.TopologyModeAnnotation] = "Auto",
        };
        Assert.False(TopologyHints.AutoEnabled(Service(annotations: annotations)));
    }

    [Fact]
    public void Auto_hints_endpoints_for_their_zones_when_the_zones_hold_their_share()
    {
        var slice = Slice(("a", true), ("a", true), ("b", true), ("b", true));
        var warnings = TopologyHints.Apply(Service(annotations: Auto()), [slice], TwoEqualZones, out var hinted);
        Assert.Empty(warnings);
        Assert.Equal(["IPv4"], hinted);
        Assert.Equal(["a", "a", "b", "b"], Hints(slice));
    }

    [Fact]
    public void Auto_gives_a_zone_with_too_many_endpoints_to_the_zone_with_too_few()
    {
        // 6 endpoints, two zones of equal CPU: 3 each; zone a has 4, b has 2, so one of a's serves b
        var slice = Slice(("a", true), ("a", true), ("a", true), ("a", true), ("b", true), ("b", true));
        Assert.Empty(TopologyHints.Apply(Service(annotations: Auto()), [slice], TwoEqualZones, out _));
        Assert.Equal(["b", "a", "a", "a", "b", "b"], Hints(slice));
    }

    [Fact]
    public void Auto_allocates_by_allocatable_cpu()
    {
        // zone a has 3/4 of the CPU: of 4 endpoints, 3 for a and 1 for b
        var capacity = () => ZoneCapacity.From([Node("a1", "a", "6"), Node("b1", "b", "2")]);
        var slice = Slice(("a", true), ("b", true), ("b", true), ("b", true));
        Assert.Empty(TopologyHints.Apply(Service(annotations: Auto()), [slice], capacity, out _));
        Assert.Equal(["a", "a", "a", "b"], Hints(slice));
    }

    [Fact]
    public void Auto_removes_hints_with_fewer_endpoints_than_zones()
    {
        var slice = Slice(("a", true));
        slice.Endpoints[0].Hints = TopologyHints.ForZone("a");
        var warning = Assert.Single(TopologyHints.Apply(Service(annotations: Auto()), [slice], TwoEqualZones, out var hinted));
        Assert.Empty(hinted);
        Assert.Equal(("Warning", "TopologyAwareHintsDisabled", "Insufficient number of endpoints (1 endpoints, 2 zones), addressType: IPv4"),
            (warning.Type, warning.Reason, warning.Message));
        Assert.Equal([null], Hints(slice));
    }

    [Fact]
    public void Auto_removes_hints_when_a_ready_endpoint_has_no_zone()
    {
        var slice = Slice(("a", true), (null, true), ("b", true), ("b", true));
        var warning = Assert.Single(TopologyHints.Apply(Service(annotations: Auto()), [slice], TwoEqualZones, out _));
        Assert.Equal(ZoneHintAllocation.NoZoneSpecified + ", addressType: IPv4", warning.Message);
        Assert.All(Hints(slice), Assert.Null);
    }

    [Fact]
    public void Auto_removes_hints_when_the_minimum_of_every_zone_cannot_be_met()
    {
        // three equal zones, 4 endpoints: each zone's minimum is ceil(4/3/1.2) = 2, 6 > 4
        var capacity = () => ZoneCapacity.From([Node("a1", "a"), Node("b1", "b"), Node("c1", "c")]);
        var slice = Slice(("a", true), ("b", true), ("c", true), ("a", true));
        var warning = Assert.Single(TopologyHints.Apply(Service(annotations: Auto()), [slice], capacity, out _));
        Assert.Equal(ZoneHintAllocation.MinAllocationExceedsOverloadThreshold + " (4 endpoints, 3 zones), addressType: IPv4", warning.Message);
        Assert.All(Hints(slice), Assert.Null);
    }

    [Fact]
    public void Auto_needs_ready_nodes_in_two_zones()
    {
        // Kubernetes' SetNodes drops the ratios of fewer than two zones, so this is its "insufficient node information"
        var slice = Slice(("a", true), ("a", true));
        var oneZone = () => ZoneCapacity.From([Node("a1", "a"), Node("b1", "b", ready: false)]);
        Assert.Equal(ZoneHintAllocation.InsufficientNodeInfo + ", addressType: IPv4",
            Assert.Single(TopologyHints.Apply(Service(annotations: Auto()), [slice], oneZone, out _)).Message);
    }

    [Fact]
    public void A_counted_node_without_a_zone_or_cpu_makes_the_node_information_insufficient()
    {
        Assert.Null(ZoneCapacity.From([Node("a1", "a"), Node("b1", "b"), Node("x", null)]).Ratios);
        Assert.Null(ZoneCapacity.From([Node("a1", "a"), Node("b1", "b"), Node("x", "c", cpu: "0")]).Ratios);
        // control-plane nodes and nodes that are not Ready are not counted at all
        var ratios = ZoneCapacity.From([Node("a1", "a", "3"), Node("b1", "b"), Node("cp", null, role: "node-role.kubernetes.io/control-plane"),
            Node("down", null, ready: false)]).Ratios!;
        Assert.Equal(3.0 / 7, ratios["a"], 6);
        Assert.Equal(4.0 / 7, ratios["b"], 6);
    }

    [Fact]
    public void Auto_takes_precedence_over_prefer_close()
    {
        var slice = Slice(("a", true));
        Assert.Single(TopologyHints.Apply(Service("PreferClose", Auto()), [slice], TwoEqualZones, out _));
        Assert.Equal([null], Hints(slice));
    }

    [Fact]
    public void Auto_endpoints_in_a_zone_without_ready_nodes_keep_their_own_zone_as_kubernetes_does()
    {
        // zone c has endpoints but no Ready node: it is no zone of the allocation, gives nothing and receives nothing
        var slice = Slice(("a", true), ("b", true), ("c", true), ("c", true));
        Assert.Empty(TopologyHints.Apply(Service(annotations: Auto()), [slice], TwoEqualZones, out _));
        Assert.Equal(["a", "b", "c", "c"], Hints(slice));
    }
}
