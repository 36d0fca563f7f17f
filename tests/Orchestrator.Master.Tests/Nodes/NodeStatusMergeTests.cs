using k8s.Models;
using Orchestrator.Master.Nodes;
using Xunit;

namespace Orchestrator.Master.Tests.Nodes;

public sealed class NodeStatusMergeTests
{
    private static V1Node Reported(string? podCidr) => new()
    {
        Metadata = new V1ObjectMeta { Name = "lab-node-1", Labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = "lab-node-1" } },
        Spec = podCidr is null ? new V1NodeSpec() : new V1NodeSpec { PodCIDR = podCidr, PodCIDRs = [podCidr] },
    };

    [Fact]
    public void A_new_node_keeps_the_pod_range_it_reports()
    {
        var node = NodeStatusMerge.Registered(Reported("172.28.1.0/24"), null);
        Assert.Equal("172.28.1.0/24", node.Spec.PodCIDR);
        Assert.Equal(["172.28.1.0/24"], node.Spec.PodCIDRs);
    }

    [Fact]
    public void A_registering_node_sets_its_pod_range_and_keeps_the_clusters_spec()
    {
        var stored = Reported(null);
        stored.Metadata.ResourceVersion = "7";
        stored.Spec.Unschedulable = true;

        var node = NodeStatusMerge.Registered(Reported("172.28.2.0/24"), stored);

        Assert.Equal("172.28.2.0/24", node.Spec.PodCIDR);
        Assert.Equal(["172.28.2.0/24"], node.Spec.PodCIDRs);
        Assert.True(node.Spec.Unschedulable);
    }

    [Fact]
    public void The_range_the_node_reports_now_wins_over_a_stored_one_and_none_reported_keeps_it()
    {
        var stored = Reported("172.28.0.0/17");

        Assert.Equal("172.28.3.0/24", NodeStatusMerge.Registered(Reported("172.28.3.0/24"), stored).Spec.PodCIDR);
        var kept = NodeStatusMerge.Registered(Reported(null), stored);
        Assert.Equal("172.28.0.0/17", kept.Spec.PodCIDR);
        Assert.Equal(["172.28.0.0/17"], kept.Spec.PodCIDRs);
    }

    [Fact]
    public void A_pods_reported_status_keeps_the_schedulers_condition_as_a_copy_sharing_nothing_with_the_stored_pod()
    {
        var when = new DateTime(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc);
        var stored = new V1PodStatus
        {
            Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = when }], QosClass = "BestEffort",
        };
        var reported = new V1PodStatus { Phase = "Running", Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }] };

        var status = NodeStatusMerge.PodStatus(reported, stored);

        Assert.Equal(["PodScheduled", "Ready"], status.Conditions.Select(c => c.Type));
        var scheduled = status.Conditions[0];
        Assert.NotSame(stored.Conditions[0], scheduled);
        Assert.Equal(("True", when), (scheduled.Status, scheduled.LastTransitionTime));
        Assert.NotSame(reported.Conditions[0], status.Conditions[1]);
        // the store takes a handed-over status in place: a change of it must not reach the stored pod
        scheduled.Status = "False";
        Assert.Equal("True", stored.Conditions[0].Status);
        Assert.Equal("BestEffort", status.QosClass);
    }

    [Fact]
    public void A_pods_reported_status_keeps_the_conditions_others_wrote_and_replaces_the_ones_the_node_reports()
    {
        var stored = new V1PodStatus
        {
            Conditions =
            [
                new V1PodCondition { Type = "PodScheduled", Status = "True" },
                new V1PodCondition { Type = "DisruptionTarget", Status = "True", Reason = "PreemptionByScheduler" },
                new V1PodCondition { Type = "example.com/feature-1", Status = "False" },
                new V1PodCondition { Type = "Ready", Status = "True" },
                new V1PodCondition { Type = "ContainersReady", Status = "True" },
            ],
        };
        var reported = new V1PodStatus
        {
            Phase = "Running",
            Conditions = [new V1PodCondition { Type = "Ready", Status = "False" }, new V1PodCondition { Type = "example.com/feature-1", Status = "True" }],
        };

        var status = NodeStatusMerge.PodStatus(reported, stored);

        Assert.Equal(["PodScheduled/True", "DisruptionTarget/True", "Ready/False", "example.com/feature-1/True"],
            status.Conditions.Select(c => $"{c.Type}/{c.Status}"));
    }

    [Theory]
    [InlineData(null, "False", "corresponding condition of pod readiness gate \"example.com/gate\" does not exist.")]
    [InlineData("False", "False", "the status of pod readiness gate \"example.com/gate\" is not \"True\", but False")]
    [InlineData("True", "True", null)]
    public void A_readiness_gate_holds_Ready_back_until_its_condition_is_True(string? gate, string ready, string? message)
    {
        List<V1PodCondition> stored = gate is null ? [] : [new V1PodCondition { Type = "example.com/gate", Status = gate }];
        var reported = new V1PodStatus
        {
            Conditions = [new V1PodCondition { Type = "ContainersReady", Status = "True" }, new V1PodCondition { Type = "Ready", Status = "True" }],
        };

        var status = NodeStatusMerge.PodStatus(reported, new V1PodStatus { Conditions = stored },
            [new V1PodReadinessGate { ConditionType = "example.com/gate" }], new DateTime(2026, 12, 4, 0, 0, 0, DateTimeKind.Utc));

        var condition = status.Conditions.Single(c => c.Type == "Ready");
        Assert.Equal((ready, message), (condition.Status, condition.Message));
        Assert.Equal(message is null ? null : "ReadinessGatesNotReady", condition.Reason);
    }

    [Fact]
    public void A_readiness_gate_leaves_the_nodes_reason_while_the_containers_are_not_ready()
    {
        var reported = new V1PodStatus
        {
            Conditions =
            [
                new V1PodCondition { Type = "ContainersReady", Status = "False", Reason = "ContainersNotReady" },
                new V1PodCondition { Type = "Ready", Status = "False", Reason = "ContainersNotReady" },
            ],
        };

        var status = NodeStatusMerge.PodStatus(reported, null, [new V1PodReadinessGate { ConditionType = "example.com/gate" }]);

        Assert.Equal("ContainersNotReady", status.Conditions.Single(c => c.Type == "Ready").Reason);
    }

    [Fact]
    public void A_null_readiness_gate_holds_Ready_back_without_throwing()
    {
        var reported = new V1PodStatus
        {
            Conditions = [new V1PodCondition { Type = "ContainersReady", Status = "True" }, new V1PodCondition { Type = "Ready", Status = "True" }],
        };

        var status = NodeStatusMerge.PodStatus(reported, null, [null!]);

        Assert.Equal(("False", "corresponding condition of pod readiness gate \"\" does not exist."),
            (status.Conditions.Single(c => c.Type == "Ready").Status, status.Conditions.Single(c => c.Type == "Ready").Message));
    }
    private static V1NodeStatus Status(DateTime heartbeat, string ready = "True", string memory = "256Gi") => new()
    {
        Conditions =
        [
            new V1NodeCondition { Type = "Ready", Status = ready, Reason = "KubeletReady", LastHeartbeatTime = heartbeat, LastTransitionTime = new DateTime(2026, 12, 6, 0, 0, 0, DateTimeKind.Utc) },
            new V1NodeCondition { Type = "MemoryPressure", Status = "False", LastHeartbeatTime = heartbeat.AddSeconds(-3) },
        ],
        Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "10.0.0.7" }],
        Capacity = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("64"), ["memory"] = new(memory) },
    };

    [Fact]
    public void Statuses_that_differ_only_in_heartbeats_do_not_differ_and_the_compared_statuses_are_left_as_they_were()
    {
        var at = new DateTime(2026, 12, 6, 7, 0, 0, DateTimeKind.Utc);
        var (a, b) = (Status(at), Status(at.AddSeconds(10)));

        Assert.False(NodeStatusMerge.DiffersBeyondHeartbeat(a, b));
        Assert.Equal(at, a.Conditions[0].LastHeartbeatTime);
        Assert.Equal(at.AddSeconds(10), b.Conditions[0].LastHeartbeatTime);
        Assert.Equal(at.AddSeconds(7), b.Conditions[1].LastHeartbeatTime);

        Assert.True(NodeStatusMerge.DiffersBeyondHeartbeat(Status(at, ready: "False"), b));
        Assert.True(NodeStatusMerge.DiffersBeyondHeartbeat(Status(at, memory: "128Gi"), b));
        Assert.True(NodeStatusMerge.DiffersBeyondHeartbeat(new V1NodeStatus { Addresses = a.Addresses }, b));
        Assert.False(NodeStatusMerge.DiffersBeyondHeartbeat(new V1NodeStatus { Addresses = a.Addresses }, new V1NodeStatus { Addresses = b.Addresses }));
        Assert.True(NodeStatusMerge.DiffersBeyondHeartbeat(a, null));
    }
}
