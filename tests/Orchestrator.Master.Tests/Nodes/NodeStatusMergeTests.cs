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
}
