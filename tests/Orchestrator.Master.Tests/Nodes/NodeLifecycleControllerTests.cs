using Microsoft.Extensions.Configuration;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Controllers.NodeLifecycle;
using Orchestrator.Master.Nodes;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Nodes;

public sealed class NodeLifecycleControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly NodeLifecycleSettings Fast = new(TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(200));

    // The controller's clock: the test moves it past the grace period.
    private TimeSpan _ahead;
    private new DateTime Now() => DateTime.UtcNow + _ahead;

    [Fact]
    public void A_node_silent_past_the_grace_period_turns_unknown_and_its_pods_not_ready()
    {
        var silent = Node("quiet");
        silent.Status.Conditions[0].LastHeartbeatTime = DateTime.UtcNow.AddMinutes(-2);
        Seed(silent);
        Seed(Node("chatty"));
        Seed(Pod("web-1", App("web"), nodeName: "quiet", phase: "Running", ready: true, podIp: "172.18.0.2"));
        Sys.ActorOf(NodeLifecycleController.Props(Store, Fast, Now));

        // a heartbeat written before the controller started counts from when the controller first saw it
        Writes.ReceiveWhile<object>(TimeSpan.FromMilliseconds(300), m => m); // the seeding writes
        Assert.DoesNotContain(Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1), m => m), m => m is Orchestrator.Master.Store.UpdateObject);
        Assert.Equal("True", Find<V1Node>("quiet")!.Status.Conditions.Single(c => c.Type == "Ready").Status);

        _ahead = TimeSpan.FromSeconds(41);
        var chatty = Find<V1Node>("chatty")!; // keeps posting
        chatty.Status.Conditions[0].LastHeartbeatTime = Now();
        Write(new Orchestrator.Master.Store.UpdateObject("nodes", chatty, "status"));
        AwaitAssert(() =>
        {
            var ready = Find<V1Node>("quiet")!.Status.Conditions.Single(c => c.Type == "Ready");
            Assert.Equal(("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."), (ready.Status, ready.Reason, ready.Message));
        });
        AwaitAssert(() => Assert.Equal("False", Find<V1Pod>("web-1")!.Status.Conditions.Single(c => c.Type == "Ready").Status));
        Assert.Equal("True", Find<V1Node>("chatty")!.Status.Conditions.Single(c => c.Type == "Ready").Status);
        // another node is Ready: the silent one is tainted for eviction too
        AwaitAssert(() => Assert.Equal(["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"],
            Taints("quiet").Select(t => $"{t.Key}:{t.Effect}").Order()));
        Assert.Empty(Taints("chatty"));
    }

    private IList<V1Taint> Taints(string node) => Find<V1Node>(node)!.Spec?.Taints ?? [];

    [Fact]
    public void A_node_whose_lease_is_renewed_stays_ready_while_its_status_is_old_until_the_lease_runs_out()
    {
        var leased = Node("leased");
        leased.Status.Conditions[0].LastHeartbeatTime = DateTime.UtcNow.AddMinutes(-2); // its status is written every 5 minutes
        Seed(leased);
        Seed(Node("silent")); // a fresh status, but no lease
        Seed(new V1Lease
        {
            ApiVersion = "coordination.k8s.io/v1", Kind = "Lease",
            Metadata = new V1ObjectMeta { Name = "leased", NamespaceProperty = "kube-node-lease" },
            Spec = new V1LeaseSpec { HolderIdentity = "leased", LeaseDurationSeconds = 40, RenewTime = DateTime.UtcNow.AddSeconds(20) },
        });
        Sys.ActorOf(NodeLifecycleController.Props(Store, Fast, Now));
        string ReadyOf(string node) => Find<V1Node>(node)!.Status.Conditions.Single(c => c.Type == "Ready").Status;

        // both are first seen at the controller's start
        Writes.ReceiveWhile<object>(TimeSpan.FromMilliseconds(300), m => m); // the seeding writes
        Assert.DoesNotContain(Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1), m => m), m => m is Orchestrator.Master.Store.UpdateObject);

        // 41 s on: the lease was renewed 21 s ago, the other node posted nothing for 41 s
        _ahead = TimeSpan.FromSeconds(41);
        AwaitAssert(() => Assert.Equal("Unknown", ReadyOf("silent")));
        Assert.Equal("True", ReadyOf("leased"));

        // 61 s on: the lease too is older than the grace period
        _ahead = TimeSpan.FromSeconds(61);
        AwaitAssert(() => Assert.Equal("Unknown", ReadyOf("leased")));
    }

    // No monitor pass within a test: what happens comes from the changes the controller sees and its own deadlines.
    private static readonly NodeLifecycleSettings NoPass = new(TimeSpan.FromSeconds(40), TimeSpan.FromHours(1));

    private static V1Lease Lease(string node) => new()
    {
        ApiVersion = "coordination.k8s.io/v1", Kind = "Lease",
        Metadata = new V1ObjectMeta { Name = node, NamespaceProperty = "kube-node-lease" },
        Spec = new V1LeaseSpec { HolderIdentity = node, LeaseDurationSeconds = 40, RenewTime = DateTime.UtcNow },
    };

    [Fact]
    public void A_node_turns_unknown_when_its_grace_period_runs_out_not_at_a_later_monitor_pass()
    {
        Seed(Node("gone"));
        Seed(Lease("gone"));
        Seed(Pod("web-1", App("web"), nodeName: "gone", phase: "Running", ready: true, podIp: "172.18.0.2"));
        // a grace period short enough to run out during the test; the next monitor pass is an hour away
        Sys.ActorOf(NodeLifecycleController.Props(Store, NoPass with { GracePeriod = TimeSpan.FromMilliseconds(500) }));

        AwaitAssert(() => Assert.Equal("Unknown", Find<V1Node>("gone")!.Status.Conditions.Single(c => c.Type == "Ready").Status),
            TimeSpan.FromSeconds(20));
        AwaitAssert(() => Assert.Equal("False", Find<V1Pod>("web-1")!.Status.Conditions.Single(c => c.Type == "Ready").Status));
    }

    [Fact]
    public void A_lease_change_has_its_node_looked_at_at_once_not_at_the_next_monitor_pass()
    {
        Seed(Node("leased"));
        Seed(Lease("leased"));
        Sys.ActorOf(NodeLifecycleController.Props(Store, NoPass, Now));
        Writes.ReceiveWhile<object>(TimeSpan.FromMilliseconds(300), m => m); // the seeding writes
        Assert.DoesNotContain(Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1), m => m), m => m is Orchestrator.Master.Store.UpdateObject);

        // 41 s after the controller first saw the node and its renewal, the lease changes without being renewed (its
        // holder's labels): looked at now, the node has been silent past the grace period
        _ahead = TimeSpan.FromSeconds(41);
        var lease = Find<V1Lease>("leased")!;
        lease.Metadata.Labels = new Dictionary<string, string> { ["touched"] = "yes" };
        Write(new Orchestrator.Master.Store.UpdateObject("leases", lease));
        AwaitAssert(() => Assert.Equal("Unknown", Find<V1Node>("leased")!.Status.Conditions.Single(c => c.Type == "Ready").Status),
            TimeSpan.FromSeconds(10));
    }

    private static readonly V1Taint UserTaint = new() { Key = "dedicated", Value = "gpu", Effect = "NoExecute" };

    [Fact]
    public void A_not_ready_node_is_tainted_not_ready_NoSchedule_and_NoExecute_and_keeps_its_users_taints()
    {
        var sick = Node("sick", ready: false);
        sick.Spec.Taints = [UserTaint];
        Seed(sick);
        Seed(Node("healthy"));
        var before = DateTime.UtcNow.AddSeconds(-1);
        Sys.ActorOf(NodeLifecycleController.Props(Store, NoPass));

        AwaitAssert(() => Assert.Equal(["dedicated:NoExecute", "node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/not-ready:NoSchedule"],
            Taints("sick").Select(t => $"{t.Key}:{t.Effect}").Order()));
        var taints = Taints("sick");
        Assert.Equal("gpu", taints.Single(t => t.Key == "dedicated").Value);
        Assert.Null(taints.Single(t => t.Key == "dedicated").TimeAdded); // a user's taint as the user wrote it
        Assert.All(taints.Where(t => t.Key != "dedicated"), t => Assert.True(t.TimeAdded > before, $"{t.Key}:{t.Effect} timeAdded {t.TimeAdded}"));
        Assert.Empty(Taints("healthy"));
    }

    [Fact]
    public void A_node_ready_again_loses_the_controllers_taints_only()
    {
        var sick = Node("sick", ready: false);
        sick.Spec.Taints = [UserTaint];
        Seed(sick);
        Seed(Node("healthy"));
        Sys.ActorOf(NodeLifecycleController.Props(Store, NoPass));
        AwaitAssert(() => Assert.Equal(3, Taints("sick").Count));

        var recovered = Find<V1Node>("sick")!;
        recovered.Status.Conditions[0].Status = "True";
        recovered.Status.Conditions[0].LastHeartbeatTime = DateTime.UtcNow;
        Write(new Orchestrator.Master.Store.UpdateObject("nodes", recovered, "status"));

        AwaitAssert(() => Assert.Equal(["dedicated:NoExecute"], Taints("sick").Select(t => $"{t.Key}:{t.Effect}")));
    }

    [Fact]
    public void Pressure_conditions_and_cordoning_give_kubes_NoSchedule_taints()
    {
        var node = Node("busy", unschedulable: true);
        foreach (var type in new[] { "MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable" })
            node.Status.Conditions.Add(new V1NodeCondition { Type = type, Status = "True" });
        node.Status.Conditions.Add(new V1NodeCondition { Type = "Foo", Status = "True" }); // not a condition kube taints for
        Seed(node);
        Sys.ActorOf(NodeLifecycleController.Props(Store, NoPass));

        AwaitAssert(() => Assert.Equal(
            ["node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/memory-pressure:NoSchedule",
             "node.kubernetes.io/network-unavailable:NoSchedule", "node.kubernetes.io/pid-pressure:NoSchedule",
             "node.kubernetes.io/unschedulable:NoSchedule"],
            Taints("busy").Select(t => $"{t.Key}:{t.Effect}").Order()));

        var uncordoned = Find<V1Node>("busy")!;
        uncordoned.Spec.Unschedulable = false;
        Write(new Orchestrator.Master.Store.UpdateObject("nodes", uncordoned));
        AwaitAssert(() => Assert.DoesNotContain(Taints("busy"), t => t.Key == "node.kubernetes.io/unschedulable"));
        Assert.Equal(4, Taints("busy").Count);
    }

    [Fact]
    public void A_controller_run_again_on_tainted_nodes_writes_nothing()
    {
        Seed(Node("sick", ready: false));
        Seed(Node("healthy", unschedulable: true));
        var first = Sys.ActorOf(NodeLifecycleController.Props(Store, Fast));
        AwaitAssert(() => Assert.Equal(2, Taints("sick").Count));
        AwaitAssert(() => Assert.Single(Taints("healthy")));
        var stamped = Taints("sick").Select(t => t.TimeAdded).ToList();
        Sys.Stop(first);
        Writes.ReceiveWhile<object>(TimeSpan.FromMilliseconds(500), m => m);

        Sys.ActorOf(NodeLifecycleController.Props(Store, Fast));
        Assert.DoesNotContain(Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1.5), m => m),
            m => m is Orchestrator.Master.Store.UpdateObject { Resource: "nodes" });
        Assert.Equal(stamped, Taints("sick").Select(t => t.TimeAdded).ToList());
    }

    [Fact]
    public void No_node_gets_a_NoExecute_taint_while_no_node_at_all_is_ready()
    {
        Seed(Node("sick1", ready: false));
        Seed(Node("sick2", ready: false));
        // leaving full disruption starts the zone's rate with an empty bucket (kube's SwapLimiter): a fast rate here
        Sys.ActorOf(NodeLifecycleController.Props(Store, Fast with { Eviction = NodeEvictionSettings.Default with { EvictionRate = 100 } }));

        AwaitAssert(() => Assert.Equal(["node.kubernetes.io/not-ready:NoSchedule"], Taints("sick1").Select(t => $"{t.Key}:{t.Effect}")));
        Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1), m => m);
        Assert.All(new[] { "sick1", "sick2" }, n => Assert.DoesNotContain(Taints(n), t => t.Effect == "NoExecute"));

        // one node Ready again: the other is tainted for eviction; the last one NotReady again: the taint goes
        var back = Find<V1Node>("sick2")!;
        back.Status.Conditions[0].Status = "True";
        Write(new Orchestrator.Master.Store.UpdateObject("nodes", back, "status"));
        AwaitAssert(() => Assert.Contains(Taints("sick1"), t => t is { Key: "node.kubernetes.io/not-ready", Effect: "NoExecute" }));
        back = Find<V1Node>("sick2")!;
        back.Status.Conditions[0].Status = "False";
        Write(new Orchestrator.Master.Store.UpdateObject("nodes", back, "status"));
        AwaitAssert(() => Assert.DoesNotContain(Taints("sick1"), t => t.Effect == "NoExecute"));
        Assert.DoesNotContain(Taints("sick2"), t => t.Effect == "NoExecute");
    }

    private static Dictionary<string, string> Zone(string zone) => new() { ["topology.kubernetes.io/zone"] = zone };

    private bool HasNoExecute(string node) => Taints(node).Any(t => t.Effect == "NoExecute");

    [Fact]
    public void NotReady_nodes_are_tainted_NoExecute_one_at_a_time_per_zone_at_the_eviction_rate()
    {
        foreach (var i in Enumerable.Range(1, 6)) Seed(Node($"a-ok{i}", labels: Zone("a")));
        foreach (var i in Enumerable.Range(1, 2)) Seed(Node($"a-down{i}", ready: false, labels: Zone("a")));
        foreach (var i in Enumerable.Range(1, 6)) Seed(Node($"b-ok{i}", labels: Zone("b")));
        Seed(Node("b-down1", ready: false, labels: Zone("b")));
        // one node every 5 s per zone; no monitor pass within the test
        Sys.ActorOf(NodeLifecycleController.Props(Store, NoPass with { Eviction = NodeEvictionSettings.Default with { EvictionRate = 0.2 } }));

        // the first of each zone at once (zone a: 2 of 8 NotReady is Normal)
        AwaitAssert(() => Assert.True(HasNoExecute("b-down1")));
        AwaitAssert(() => Assert.True(HasNoExecute("a-down1") || HasNoExecute("a-down2")));
        var started = DateTime.UtcNow;
        Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(2), m => m);
        Assert.False(HasNoExecute("a-down1") && HasNoExecute("a-down2"), "the second node of zone a was tainted within 2 s");
        // the second one when the zone's next token comes (5 s after the first)
        AwaitAssert(() => Assert.True(HasNoExecute("a-down1") && HasNoExecute("a-down2")), TimeSpan.FromSeconds(15));
        Assert.True(DateTime.UtcNow - started > TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void A_partially_disrupted_small_zone_is_not_tainted_while_a_healthy_zone_is()
    {
        // zone a: 3 of 5 NotReady (Partial, 5 nodes <= 50: rate 0); zone b: 1 of 5 (Normal)
        foreach (var i in Enumerable.Range(1, 2)) Seed(Node($"a-ok{i}", labels: Zone("a")));
        foreach (var i in Enumerable.Range(1, 3)) Seed(Node($"a-down{i}", ready: false, labels: Zone("a")));
        foreach (var i in Enumerable.Range(1, 4)) Seed(Node($"b-ok{i}", labels: Zone("b")));
        Seed(Node("b-down1", ready: false, labels: Zone("b")));
        Sys.ActorOf(NodeLifecycleController.Props(Store, Fast with { Eviction = NodeEvictionSettings.Default with { EvictionRate = 100 } }));

        AwaitAssert(() => Assert.True(HasNoExecute("b-down1")));
        Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1.5), m => m); // several monitor passes
        Assert.All(new[] { "a-down1", "a-down2", "a-down3" }, n =>
        {
            Assert.False(HasNoExecute(n), $"{n} was tainted NoExecute");
            Assert.Contains(Taints(n), t => t is { Key: "node.kubernetes.io/not-ready", Effect: "NoSchedule" }); // still unschedulable
        });

        // one of zone a back: 2 of 5 NotReady is Normal, and the other two are tainted
        var back = Find<V1Node>("a-down3")!;
        back.Status.Conditions[0].Status = "True";
        Write(new Orchestrator.Master.Store.UpdateObject("nodes", back, "status"));
        AwaitAssert(() => Assert.True(HasNoExecute("a-down1") && HasNoExecute("a-down2")));
    }

    [Fact]
    public void Timings_come_from_master_flags_in_seconds()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["node-monitor-grace-period"] = "20", ["node-monitor-period"] = "2" })
            .Build();

        var options = ControlPlaneOptions.From(configuration);

        Assert.Equal(new NodeLifecycleSettings(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(2)), options.NodeLifecycle);
        Assert.Equal(new NodeGatewaySettings(TimeSpan.FromSeconds(2)),
            ControlPlaneOptions.From(new ConfigurationBuilder().AddInMemoryCollection(
                new Dictionary<string, string?> { ["node-status-report-frequency"] = "2" }).Build()).NodeGateway);
    }

    [Fact]
    public void A_zero_grace_period_falls_back_to_the_default()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["node-monitor-grace-period"] = "0" })
            .Build();

        var options = ControlPlaneOptions.From(configuration);

        Assert.Equal(NodeGatewaySettings.Default, options.NodeGateway);
        Assert.Equal(NodeLifecycleSettings.Default.GracePeriod, options.NodeLifecycle.GracePeriod);
    }
}
