using k8s.Models;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Scheduling.Framework;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Scheduling;

public sealed class SchedulingAlgorithmTests
{
    private static NodeInfo Info(V1Node node, params V1Pod[] pods) => new(node, pods);

    [Fact]
    public void The_node_with_the_fewest_pods_wins()
    {
        var busy = Info(Node("a"), Pod("x", nodeName: "a"), Pod("y", nodeName: "a"));
        var quiet = Info(Node("b"), Pod("z", nodeName: "b"));

        Assert.Equal("b", SchedulingAlgorithm.Default.Schedule(Pod("new"), [busy, quiet]).NodeName);
    }

    [Fact]
    public void Every_reason_is_counted_in_the_failure_message_in_sorted_order()
    {
        var pod = Pod("new");
        pod.Spec.NodeSelector = new Dictionary<string, string> { ["disk"] = "ssd" };
        var nodes = new[]
        {
            Info(Node("cordoned", unschedulable: true)),
            Info(Node("hdd1", labels: new Dictionary<string, string> { ["disk"] = "hdd" })),
            Info(Node("hdd2")),
        };

        var result = SchedulingAlgorithm.Default.Schedule(pod, nodes);

        Assert.False(result.Scheduled);
        Assert.Equal("0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector.",
            result.FailureMessage);
    }

    [Fact]
    public void A_node_selector_picks_the_matching_node()
    {
        var pod = Pod("new");
        pod.Spec.NodeSelector = new Dictionary<string, string> { ["disk"] = "ssd" };
        var nodes = new[] { Info(Node("a")), Info(Node("b", labels: new Dictionary<string, string> { ["disk"] = "ssd" })) };

        Assert.Equal("b", SchedulingAlgorithm.Default.Schedule(pod, nodes).NodeName);
    }

    [Fact]
    public void Without_nodes_the_message_says_so()
    {
        Assert.Equal("no nodes available to schedule pods", SchedulingAlgorithm.Default.Schedule(Pod("new"), []).FailureMessage);
    }
}
