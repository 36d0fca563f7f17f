using Orchestrator.Node.Agent;

namespace Orchestrator.Node.Tests.Agent;

public sealed class NodeDescriptionTests
{
    [Fact]
    public void The_node_publishes_its_pod_range_as_spec_pod_cidr()
    {
        var node = new NodeDescription("lab-node-1", "127.0.0.11", DateTime.UtcNow, 10250, "172.28.1.0/24").Node(DateTime.UtcNow);
        Assert.Equal("172.28.1.0/24", node.Spec.PodCIDR);
        Assert.Equal(["172.28.1.0/24"], node.Spec.PodCIDRs);
    }

    [Fact]
    public void Without_a_range_the_spec_is_empty()
    {
        var node = new NodeDescription("n", "127.0.0.1", DateTime.UtcNow).Node(DateTime.UtcNow);
        Assert.Null(node.Spec.PodCIDR);
        Assert.Null(node.Spec.PodCIDRs);
    }
}
