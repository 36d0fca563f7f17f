using Microsoft.Extensions.Configuration;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Nodes;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Nodes;

public sealed class NodeLifecycleControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly NodeLifecycleSettings Fast =
        new(TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(5));

    // The controller's clock: the test moves it past the grace period or the eviction timeout.
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
    }

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
    private static readonly NodeLifecycleSettings NoPass =
        new(TimeSpan.FromSeconds(40), TimeSpan.FromHours(1), TimeSpan.FromMinutes(5));

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

    [Fact]
    public void Pods_are_evicted_when_the_eviction_timeout_runs_out_not_at_a_later_monitor_pass()
    {
        Seed(Node("sick", ready: false)); // posting NotReady since the controller first sees it
        Seed(Node("healthy"));
        Seed(Pod("on-sick", App("web"), nodeName: "sick", phase: "Running"));
        Seed(Pod("on-healthy", App("web"), nodeName: "healthy", phase: "Running"));
        Sys.ActorOf(NodeLifecycleController.Props(Store, NoPass with { PodEvictionTimeout = TimeSpan.FromMilliseconds(500) }));

        AwaitAssert(() => Assert.Equal(["on-healthy"], All<V1Pod>().Select(p => p.Metadata.Name)), TimeSpan.FromSeconds(20));
    }

    private static V1Node LongNotReady(string name)
    {
        var node = Node(name, ready: false);
        node.Status.Conditions[0].LastHeartbeatTime = DateTime.UtcNow; // still posting, but NotReady for long
        node.Status.Conditions[0].LastTransitionTime = DateTime.UtcNow.AddMinutes(-10);
        return node;
    }

    [Fact]
    public void Pods_of_a_node_not_ready_past_the_eviction_timeout_are_deleted()
    {
        Seed(LongNotReady("sick"));
        Seed(Node("healthy"));
        Seed(Pod("on-sick", App("web"), nodeName: "sick", phase: "Running"));
        Seed(Pod("on-healthy", App("web"), nodeName: "healthy", phase: "Running"));
        // A grace period longer than the clock's jump: with 40 s, the healthy node (silent across the jump) could be
        // marked Unknown before the sick one was looked at again, and with no node Ready nothing is evicted.
        Sys.ActorOf(NodeLifecycleController.Props(Store, Fast with { GracePeriod = TimeSpan.FromMinutes(10) }, Now));

        // not ready since before the controller started: the timeout runs from the controller's first sighting
        Writes.ReceiveWhile<object>(TimeSpan.FromMilliseconds(300), m => m); // the seeding writes
        Assert.DoesNotContain(Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1), m => m), m => m is Orchestrator.Master.Store.DeleteObject);
        // the node keeps posting (NotReady) while the clock passes the eviction timeout
        _ahead = TimeSpan.FromMinutes(5.1);
        var sick = Find<V1Node>("sick")!;
        sick.Status.Conditions[0].LastHeartbeatTime = Now();
        Write(new Orchestrator.Master.Store.UpdateObject("nodes", sick, "status"));
        AwaitAssert(() => Assert.Equal(["on-healthy"], All<V1Pod>().Select(p => p.Metadata.Name)));
    }

    [Fact]
    public void No_pod_is_evicted_while_no_node_at_all_is_ready()
    {
        Seed(LongNotReady("sick1"));
        Seed(LongNotReady("sick2"));
        Seed(Pod("on-sick", App("web"), nodeName: "sick1", phase: "Running"));
        Sys.ActorOf(NodeLifecycleController.Props(Store, Fast));

        Writes.ReceiveWhile<object>(TimeSpan.FromMilliseconds(300), m => m); // the seeding writes
        Assert.DoesNotContain(Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1.5), m => m), m => m is Orchestrator.Master.Store.DeleteObject);
        Assert.Single(All<V1Pod>());
    }

    [Fact]
    public void Timings_come_from_master_flags_in_seconds()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["node-monitor-grace-period"] = "20", ["pod-eviction-timeout"] = "60" })
            .Build();

        var options = ControlPlaneOptions.From(configuration);

        Assert.Equal(new NodeLifecycleSettings(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60)),
            options.NodeLifecycle);
        Assert.Equal(new NodeGatewaySettings(TimeSpan.FromSeconds(2)),
            ControlPlaneOptions.From(new ConfigurationBuilder().AddInMemoryCollection(
                new Dictionary<string, string?> { ["node-status-report-frequency"] = "2" }).Build()).NodeGateway);
    }

    [Fact]
    public void An_eviction_timeout_of_zero_is_kept_but_a_zero_grace_period_falls_back_to_the_default()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["node-monitor-grace-period"] = "0", ["pod-eviction-timeout"] = "0" })
            .Build();

        var options = ControlPlaneOptions.From(configuration);

        Assert.Equal(TimeSpan.Zero, options.NodeLifecycle.PodEvictionTimeout);
        Assert.Equal(NodeGatewaySettings.Default, options.NodeGateway);
        Assert.Equal(NodeLifecycleSettings.Default.GracePeriod, options.NodeLifecycle.GracePeriod);
    }
}
