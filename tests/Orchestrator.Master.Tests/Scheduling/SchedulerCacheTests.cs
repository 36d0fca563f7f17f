using k8s.Models;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Scheduling.Framework;
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

    private static V1Pod Varied(int i)
    {
        var pod = WithUid($"p{i}");
        pod.Metadata.OwnerReferences = [new V1OwnerReference { Uid = $"owner-{i % 3}", Controller = true, Kind = "ReplicaSet", Name = $"rs{i % 3}", ApiVersion = "apps/v1" }];
        if (i % 2 == 0)
            pod.Spec.Containers[0].Resources = new V1ResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new($"{i * 10}m"), ["memory"] = new($"{i}Mi") },
            };
        if (i % 5 == 0)
            pod.Spec.Affinity = new V1Affinity { PodAntiAffinity = new V1PodAntiAffinity() };
        return pod;
    }

    /// <summary>The facts a NodeInfo made from scratch computes for itself.</summary>
    private static object Facts(NodeInfo n) => new
    {
        n.Name,
        Pods = string.Join(",", n.Pods.Select(p => p.Metadata.Uid).Order()),
        n.Requested, n.NonZeroRequested, n.Allocatable, n.MaxPods,
        Owners = string.Join(",", Enumerable.Range(0, 3).Select(o => n.CountOwnedBy($"owner-{o}"))),
        Affinity = string.Join(",", n.PodsWithAffinity.Select(p => p.Metadata.Uid).Order()),
        Taints = string.Join(",", n.Taints.Select(t => $"{t.Key}={t.Value}:{t.Effect}")),
        n.Unschedulable,
    };

    [Fact]
    public void Facts_kept_change_by_change_equal_those_of_a_rebuild()
    {
        var random = new Random(19);
        var cache = new SchedulerCache();
        var nodes = new Dictionary<string, V1Node>();
        var placed = new Dictionary<string, (V1Pod Pod, string Node)>();
        for (var step = 0; step < 2000; step++)
        {
            var name = $"n{random.Next(8)}";
            switch (random.Next(10))
            {
                case 0:
                    var node = Node(name, ready: random.Next(3) > 0, unschedulable: random.Next(4) == 0);
                    node.Status.Allocatable = new Dictionary<string, ResourceQuantity> { ["cpu"] = new($"{random.Next(1, 9)}"), ["pods"] = new("50") };
                    if (random.Next(4) == 0) node.Spec.Taints = [new V1Taint { Key = "k", Value = "v", Effect = "NoSchedule" }];
                    nodes[name] = node;
                    cache.SetNode(node);
                    break;
                case 1:
                    nodes.Remove(name);
                    cache.RemoveNode(name);
                    break;
                case < 7:
                    var pod = Varied(random.Next(60));
                    placed[pod.Metadata.Uid] = (pod, name);
                    cache.SetPod(pod, name);
                    break;
                default:
                    var uid = $"p{random.Next(60)}-uid";
                    placed.Remove(uid);
                    cache.RemovePod(uid);
                    break;
            }

            var rebuilt = nodes.Values.OrderBy(n => n.Metadata.Name, StringComparer.Ordinal)
                .Select(n => new NodeInfo(n, placed.Values.Where(p => p.Node == n.Metadata.Name).Select(p => p.Pod).ToList()));
            Assert.Equal(rebuilt.Select(Facts), cache.NodeInfos().Select(Facts));
            Assert.Equal(cache.NodeInfos(), cache.CurrentNodeInfos());
            // one owner uid kept per owner with pods counted, none left behind
            Assert.Equal(placed.Values.Select(p => p.Pod.Metadata.OwnerReferences[0].Uid).Distinct().Count(), cache.OwnerUidCount);
        }
    }

    [Fact]
    public void Every_node_counts_an_owner_under_one_instance_of_its_uid_until_its_last_pod_goes()
    {
        var cache = new SchedulerCache();
        cache.SetNode(Node("a"));
        cache.SetNode(Node("b"));
        for (var i = 0; i < 4; i++)
        {
            var pod = WithUid($"p{i}");
            // equal uids, separate strings: as decoded from separate pods
            pod.Metadata.OwnerReferences = [new V1OwnerReference { Uid = new string("owner-1".AsSpan()), Controller = true, Kind = "ReplicaSet", Name = "rs", ApiVersion = "apps/v1" }];
            cache.SetPod(pod, i % 2 == 0 ? "a" : "b");
        }
        var held = cache.NodeInfos().Select(n => Assert.Single(n.Owners.Uids)).ToList();
        Assert.Same(held[0], held[1]);
        Assert.Equal(1, cache.OwnerUidCount);

        for (var i = 0; i < 4; i++) cache.RemovePod($"p{i}-uid");
        Assert.Equal(0, cache.OwnerUidCount);
        Assert.All(cache.NodeInfos(), n => Assert.Equal(0, n.CountOwnedBy("owner-1")));
    }

    [Fact]
    public void Owners_whose_uids_hash_alike_are_counted_apart()
    {
        // the owner counts search by a hash of the uid's last 8 characters: these three share it
        string[] owners = ["aaaa-0000-12345678", "bbbb-1111-12345678", "cccc-2222-12345678"];
        Assert.Single(owners.Select(NodeFacts.UidHash).Distinct());
        var cache = new SchedulerCache();
        cache.SetNode(Node("a"));
        for (var i = 0; i < 6; i++)
        {
            var pod = WithUid($"p{i}");
            // 1 pod of the first owner, 2 of the second, 3 of the third
            var owner = owners[i == 0 ? 0 : i <= 2 ? 1 : 2];
            pod.Metadata.OwnerReferences = [new V1OwnerReference { Uid = owner, Controller = true, Kind = "ReplicaSet", Name = owner, ApiVersion = "apps/v1" }];
            cache.SetPod(pod, "a");
        }
        var cached = Assert.Single(cache.NodeInfos());
        var rebuilt = new NodeInfo(cached.Node, cached.Pods);
        foreach (var node in new[] { cached, rebuilt })
        {
            Assert.Equal([1, 2, 3], owners.Select(node.CountOwnedBy));
            Assert.Equal(0, node.CountOwnedBy("dddd-3333-12345678"));
            Assert.Equal(3, node.Owners.Count);
        }
        cache.RemovePod("p3-uid");
        Assert.Equal([1, 2, 2], owners.Select(Assert.Single(cache.NodeInfos()).CountOwnedBy));
    }

    [Fact]
    public void A_pod_counted_on_a_node_not_yet_known_shows_when_the_node_does()
    {
        var cache = new SchedulerCache();
        cache.SetPod(WithUid("p"), "late");
        Assert.Empty(cache.NodeInfos());

        cache.SetNode(Node("late"));

        Assert.Equal(["p-uid"], cache.NodeInfos().Single().Pods.Select(p => p.Metadata.Uid));
    }
}
