using k8s.Models;
using Microsoft.Extensions.Configuration;
using Orchestrator.Master.Controllers.NodeLifecycle;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers.NodeLifecycle;

/// <summary>The zones of the node lifecycle controller (kube's RateLimitedTimedQueue, ComputeZoneState, handleDisruption),
/// on a clock the test moves.</summary>
public sealed class ZoneTaintingTests
{
    private DateTime _now = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private DateTime Now() => _now;

    private ZoneTainting Zones(NodeEvictionSettings? settings = null) => new(settings ?? NodeEvictionSettings.Default, Now);

    /// <summary>The nodes the zones let through now, in order.</summary>
    private static List<string> Pass(ZoneTainting zones)
    {
        var tainted = new List<string>();
        zones.Try(node =>
        {
            tainted.Add(node);
            return (true, TimeSpan.Zero);
        });
        return tainted;
    }

    private static Dictionary<string, List<string?>> Statuses(params (string Zone, int Ready, int NotReady)[] zones) =>
        zones.ToDictionary(z => z.Zone, z => Enumerable.Repeat<string?>("True", z.Ready).Concat(Enumerable.Repeat<string?>("Unknown", z.NotReady)).ToList());

    [Fact]
    public void The_first_node_of_a_zone_goes_at_once_and_the_next_one_ten_seconds_later_at_the_default_rate()
    {
        var zones = Zones();
        zones.HandleDisruption(Statuses(("a", 8, 2)));
        zones.MarkForTainting("a", "a1", tainted: false);
        zones.MarkForTainting("a", "a2", tainted: false);

        Assert.Equal(["a1"], Pass(zones));
        Assert.Equal(_now.AddSeconds(10), zones.NextTry());
        _now = _now.AddSeconds(9.9);
        Assert.Empty(Pass(zones));
        _now = _now.AddSeconds(0.1);
        Assert.Equal(["a2"], Pass(zones));
        Assert.Null(zones.NextTry());
    }

    [Fact]
    public void Each_zone_has_its_own_rate()
    {
        var zones = Zones();
        zones.HandleDisruption(Statuses(("a", 8, 2), ("b", 8, 2)));
        foreach (var node in new[] { "a1", "a2" }) zones.MarkForTainting("a", node, tainted: false);
        foreach (var node in new[] { "b1", "b2" }) zones.MarkForTainting("b", node, tainted: false);

        Assert.Equal(["a1", "b1"], Pass(zones).Order());
        _now = _now.AddSeconds(10);
        Assert.Equal(["a2", "b2"], Pass(zones).Order());
    }

    [Fact]
    public void A_node_queued_twice_is_tainted_once_and_queued_again_only_after_it_was_reachable()
    {
        var zones = Zones(NodeEvictionSettings.Default with { EvictionRate = 100 });
        zones.HandleDisruption(Statuses(("", 2, 1)));
        Assert.True(zones.MarkForTainting("", "n1", tainted: false));
        Assert.False(zones.MarkForTainting("", "n1", tainted: true));
        Assert.Equal(["n1"], Pass(zones));
        Assert.False(zones.MarkForTainting("", "n1", tainted: true)); // processed: stays in the set
        _now = _now.AddSeconds(1);
        Assert.Empty(Pass(zones));

        Assert.True(zones.MarkReachable("", "n1"));
        Assert.True(zones.MarkForTainting("", "n1", tainted: false));
        Assert.Equal(["n1"], Pass(zones));
    }

    [Fact]
    public void A_node_that_cannot_be_tainted_yet_is_tried_again_after_its_delay()
    {
        var zones = Zones(NodeEvictionSettings.Default with { EvictionRate = 100 });
        zones.HandleDisruption(Statuses(("", 2, 1)));
        zones.MarkForTainting("", "n1", tainted: false);
        var tries = 0;
        zones.Try(_ => (++tries > 1, TimeSpan.FromMilliseconds(50)));
        Assert.Equal(1, tries);
        Assert.True(zones.NextTry() > _now.AddMilliseconds(49));
        _now = _now.AddMilliseconds(51);
        zones.Try(_ => (++tries > 1, TimeSpan.FromMilliseconds(50)));
        Assert.Equal(2, tries);
        Assert.Null(zones.NextTry());
    }

    [Theory]
    [InlineData(3, 0, "Normal")]
    [InlineData(2, 1, "Normal")]          // a lab of 3 with one node down
    [InlineData(1, 1, "Normal")]          // a lab of 2 with one node down
    [InlineData(1, 2, "Normal")]          // 2 of 3: not more than 2
    [InlineData(0, 1, "FullDisruption")]
    [InlineData(0, 5, "FullDisruption")]
    [InlineData(2, 3, "PartialDisruption")] // 3 of 5 = 0.6
    [InlineData(9, 11, "PartialDisruption")] // 11 of 20 = 0.55 exactly
    [InlineData(10, 10, "Normal")]        // 0.5
    [InlineData(3, 3, "Normal")]          // 0.5
    [InlineData(0, 0, "Normal")]
    public void Zone_states_follow_kubes_thresholds(int ready, int notReady, string expected) =>
        Assert.Equal(Enum.Parse<ZoneState>(expected), Zones().ComputeZoneState(Statuses(("", ready, notReady))[""]));

    [Fact]
    public void A_node_without_a_Ready_condition_counts_as_not_ready() =>
        Assert.Equal(ZoneState.FullDisruption, Zones().ComputeZoneState([null, "False"]));

    [Fact]
    public void A_partially_disrupted_small_zone_stops_tainting()
    {
        var zones = Zones();
        zones.HandleDisruption(Statuses(("a", 2, 3)));
        Assert.Equal(ZoneState.PartialDisruption, zones.States["a"]);
        zones.MarkForTainting("a", "a1", tainted: false);
        _now = _now.AddHours(1);
        Assert.Empty(Pass(zones));
        Assert.Null(zones.NextTry());

        // healthy again (two came back): the normal rate, after the token the old (stopped) rate did not have
        zones.HandleDisruption(Statuses(("a", 4, 1)));
        Assert.Equal(ZoneState.Normal, zones.States["a"]);
        Assert.Empty(Pass(zones));
        _now = _now.AddSeconds(10);
        Assert.Equal(["a1"], Pass(zones));
    }

    [Fact]
    public void A_partially_disrupted_large_zone_goes_on_at_the_secondary_rate()
    {
        var zones = Zones();
        zones.HandleDisruption(Statuses(("a", 20, 31))); // 51 nodes > 50, 31/51 >= 0.55
        Assert.Equal(ZoneState.PartialDisruption, zones.States["a"]);
        foreach (var node in new[] { "a1", "a2" }) zones.MarkForTainting("a", node, tainted: false);
        Assert.Equal(["a1"], Pass(zones)); // the full bucket was swapped for a full one of the new rate
        _now = _now.AddSeconds(99);
        Assert.Empty(Pass(zones));
        _now = _now.AddSeconds(1); // 0.01 nodes a second
        Assert.Equal(["a2"], Pass(zones));
    }

    [Fact]
    public void A_zone_entirely_down_beside_a_healthy_one_is_tainted_at_the_normal_rate()
    {
        var zones = Zones();
        Assert.Equal(DisruptionChange.None, zones.HandleDisruption(Statuses(("a", 0, 3), ("b", 3, 0))));
        Assert.Equal((ZoneState.FullDisruption, ZoneState.Normal), (zones.States["a"], zones.States["b"]));
        Assert.False(zones.InFullDisruptionMode);
        foreach (var node in new[] { "a1", "a2" }) zones.MarkForTainting("a", node, tainted: false);
        Assert.Equal(["a1"], Pass(zones));
        _now = _now.AddSeconds(10);
        Assert.Equal(["a2"], Pass(zones));
    }

    [Fact]
    public void Every_zone_down_stops_all_tainting_and_leaving_it_restores_the_rates_one_token_later()
    {
        var zones = Zones();
        zones.HandleDisruption(Statuses(("a", 1, 1), ("b", 1, 0)));
        zones.MarkForTainting("a", "a1", tainted: false);

        Assert.Equal(DisruptionChange.EnteredFullDisruption, zones.HandleDisruption(Statuses(("a", 0, 2), ("b", 0, 1))));
        Assert.True(zones.InFullDisruptionMode);
        Assert.Empty(Pass(zones)); // the queue was emptied: the caller takes the taints off
        Assert.True(zones.MarkForTainting("a", "a1", tainted: false));
        _now = _now.AddHours(1);
        Assert.Empty(Pass(zones));
        Assert.Equal(DisruptionChange.None, zones.HandleDisruption(Statuses(("a", 0, 2), ("b", 0, 1))));

        Assert.Equal(DisruptionChange.ExitedFullDisruption, zones.HandleDisruption(Statuses(("a", 0, 2), ("b", 1, 0))));
        Assert.False(zones.InFullDisruptionMode);
        Assert.Equal((ZoneState.FullDisruption, ZoneState.Normal), (zones.States["a"], zones.States["b"]));
        Assert.Empty(Pass(zones)); // kube's SwapLimiter: the stopped limiter had no token, so the new one starts empty
        _now = _now.AddSeconds(10);
        Assert.Equal(["a1"], Pass(zones));
    }

    [Fact]
    public void Zone_keys_are_kubes_region_and_zone()
    {
        V1Node Node(Dictionary<string, string>? labels) => new() { Metadata = new V1ObjectMeta { Name = "n", Labels = labels } };
        Assert.Equal("", ZoneTainting.ZoneKey(Node(null)));
        Assert.Equal(":\0:z1", ZoneTainting.ZoneKey(Node(new() { ["topology.kubernetes.io/zone"] = "z1" })));
        Assert.Equal("r:\0:z2", ZoneTainting.ZoneKey(Node(new() { ["failure-domain.beta.kubernetes.io/zone"] = "z2", ["topology.kubernetes.io/region"] = "r" })));
    }

    [Fact]
    public void The_rates_and_thresholds_come_from_kubes_flags()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["node-eviction-rate"] = "2", ["secondary-node-eviction-rate"] = "0.5", ["unhealthy-zone-threshold"] = "0.3",
            ["large-cluster-size-threshold"] = "10",
        }).Build();
        Assert.Equal(new NodeEvictionSettings(2, 0.5, 0.3f, 10), NodeEvictionSettings.From(configuration));
        Assert.Equal(NodeEvictionSettings.Default, NodeEvictionSettings.From(new ConfigurationBuilder().Build()));
        Assert.Equal(new NodeEvictionSettings(0.1, 0.01, 0.55f, 50), NodeEvictionSettings.Default);
        Assert.Equal(new NodeEvictionSettings(2, 0.5, 0.3f, 10), ControlPlaneOptions.From(configuration).NodeLifecycle.Eviction);
        Assert.NotNull(NodeEvictionSettings.NumberProblem("-1"));
        Assert.NotNull(NodeEvictionSettings.NumberProblem("fast"));
        Assert.Null(NodeEvictionSettings.NumberProblem("0"));
        Assert.NotNull(NodeEvictionSettings.WholeNumberProblem("1.5"));
    }
}
