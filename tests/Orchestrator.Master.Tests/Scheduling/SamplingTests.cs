using k8s.Models;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Scheduling.Framework;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Scheduling;

/// <summary>Kubernetes' percentageOfNodesToScore: a decision filters until enough feasible nodes are found, starting
/// where the previous one stopped.</summary>
public sealed class SamplingTests
{
    [Theory]
    [InlineData(0, 50, 50)] // fewer than 100 nodes: all
    [InlineData(0, 100, 100)]
    [InlineData(0, 1000, 420)] // 50% - 1000/125 = 42%
    [InlineData(0, 5000, 500)] // 50% - 40 = 10%
    [InlineData(0, 6000, 300)] // 50% - 48 = 2%, at least 5%
    [InlineData(0, 150, 100)] // 49% of 150 = 73, at least 100
    [InlineData(30, 1000, 300)]
    [InlineData(100, 1000, 1000)]
    public void The_number_of_feasible_nodes_to_find_follows_Kubernetes(int percentage, int nodes, int expected) =>
        Assert.Equal(expected, SchedulingAlgorithm.NumFeasibleNodesToFind(percentage, nodes));

    private static List<NodeInfo> Cluster(int count) =>
        Enumerable.Range(0, count).Select(i => new NodeInfo(Node($"n{i:D4}"), [])).ToList();

    [Fact]
    public void Filtering_stops_after_enough_feasible_nodes_and_starts_where_asked()
    {
        var nodes = Cluster(1000);

        var first = SchedulingAlgorithm.Default.Schedule(Pod("p"), nodes);
        var wrapped = SchedulingAlgorithm.Default.Schedule(Pod("p"), nodes, startIndex: 900);

        Assert.Equal(420, first.NodesProcessed);
        Assert.Equal("n0000", first.NodeName); // all alike: the first by name among those filtered
        Assert.Equal(420, wrapped.NodesProcessed);
        Assert.Equal("n0000", wrapped.NodeName); // 900..999 then 0..319
        Assert.Equal("n0500", SchedulingAlgorithm.Default.Schedule(Pod("p"), nodes, startIndex: 500).NodeName);
    }

    [Fact]
    public void Ties_in_the_cache_snapshot_go_to_the_first_name_as_in_a_plain_list_wherever_filtering_starts()
    {
        // the cache's snapshot breaks ties by its (name) order, a plain list by comparing names: the same node either way
        var cache = new SchedulerCache();
        foreach (var i in new[] { 7, 2, 9, 0, 5, 1, 8, 3, 6, 4 }) cache.SetNode(Node($"n{i}"));
        var list = cache.NodeInfos().ToList();
        for (var start = 0; start < 10; start++)
        {
            var fromSnapshot = SchedulingAlgorithm.Default.Schedule(Pod("p"), cache.CurrentNodeInfos(), start);
            var fromList = SchedulingAlgorithm.Default.Schedule(Pod("p"), list, start);
            Assert.Equal("n0", fromSnapshot.NodeName); // all tie: the first by name, not the first filtered
            Assert.Equal(fromList, fromSnapshot);
        }
    }

    [Fact]
    public void Nodes_that_fail_do_not_count_toward_enough_and_a_pod_that_fits_nowhere_hears_of_every_node()
    {
        var nodes = Enumerable.Range(0, 1000).Select(i => new NodeInfo(Node($"n{i:D4}", unschedulable: i < 700), [])).ToList();

        var result = SchedulingAlgorithm.Default.Schedule(Pod("p"), nodes);
        Assert.Equal("n0700", result.NodeName);
        Assert.Equal(1000, result.NodesProcessed); // 700 failed, then the 300 feasible ones (fewer than 420)

        var none = SchedulingAlgorithm.Default.Schedule(Pod("p"), nodes.Take(700).ToList());
        Assert.Equal("0/700 nodes are available: 700 node(s) were unschedulable.", none.FailureMessage);
    }

    [Fact]
    public void With_sampling_the_pods_of_one_owner_still_spread_evenly()
    {
        var cache = new SchedulerCache();
        for (var i = 0; i < 300; i++) cache.SetNode(Node($"n{i:D4}"));
        var owner = new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "rs", Uid = "rs-uid", Controller = true };
        var start = 0;
        for (var i = 0; i < 900; i++)
        {
            var pod = Pod($"p{i}", owner: owner);
            pod.Metadata.Uid = $"p{i}-uid";
            var nodes = cache.NodeInfos();
            var result = SchedulingAlgorithm.Default.Schedule(pod, nodes, start);
            start = (start + result.NodesProcessed) % nodes.Count;
            cache.SetPod(pod, result.NodeName!);
        }

        // Each decision sees 144 of the 300 nodes, so a node may get a pod while one outside the window has one less:
        // within one of the ideal 3, as kube-scheduler's sampling.
        var counts = cache.NodeInfos().Select(n => n.CountOwnedBy("rs-uid")).ToList();
        Assert.Equal(900, counts.Sum());
        Assert.InRange(counts.Min(), 2, 3);
        Assert.InRange(counts.Max(), 3, 4);
    }
}
