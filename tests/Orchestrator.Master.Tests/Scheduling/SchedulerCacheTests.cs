using k8s.Models;
using Orchestrator.Master.Scheduling;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Scheduling;

public sealed class SchedulerCacheTests
{
    private static V1Pod WithUid(string name)
    {
        var pod = Pod(name);
        pod.Metadata.Uid = name + "-uid";
        return pod;
    }

    [Fact]
    public void A_pod_moves_between_nodes_and_leaves_when_removed()
    {
        var cache = new SchedulerCache();
        cache.SetNode(Node("b"));
        cache.SetNode(Node("a"));
        var pod = WithUid("p");

        cache.SetPod(pod, "a");
        Assert.Equal([("a", 1), ("b", 0)], cache.NodeInfos().Select(n => (n.Name, n.Pods.Count)));

        cache.SetPod(pod, "b");
        Assert.Equal([("a", 0), ("b", 1)], cache.NodeInfos().Select(n => (n.Name, n.Pods.Count)));

        cache.RemovePod(pod.Metadata.Uid);
        Assert.All(cache.NodeInfos(), n => Assert.Empty(n.Pods));
    }

    [Fact]
    public void An_unchanged_node_keeps_its_node_info_and_a_changed_one_gets_a_new_one()
    {
        var cache = new SchedulerCache();
        cache.SetNode(Node("a"));
        cache.SetNode(Node("b"));
        var before = cache.NodeInfos();

        cache.SetPod(WithUid("p"), "b");
        var after = cache.NodeInfos();

        Assert.Same(before[0], after[0]);
        Assert.NotSame(before[1], after[1]);
    }

    [Fact]
    public void A_removed_node_is_no_longer_offered()
    {
        var cache = new SchedulerCache();
        cache.SetNode(Node("a"));
        cache.SetNode(Node("b"));

        cache.RemoveNode("a");

        Assert.Equal(["b"], cache.NodeInfos().Select(n => n.Name));
    }
}
