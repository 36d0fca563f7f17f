using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Nodes;
using Orchestrator.Master.Tests.Controllers.Support;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Nodes;

/// <summary>Node lifecycle, taint eviction, scheduler and ReplicaSets together with fake nodes that heartbeat: a node
/// that goes silent turns Unknown and is tainted unreachable:NoExecute, and its pods (without tolerations: this store
/// runs no admission plugins) are evicted and recreated on the nodes that are left.</summary>
public sealed class LostNodeTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Beat = TimeSpan.FromMilliseconds(200);

    private static readonly ControlPlaneOptions Fast = ControlPlaneOptions.Default with
    {
        NodeLifecycle = new NodeLifecycleSettings(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(250)),
        NodeGateway = new NodeGatewaySettings(TimeSpan.FromMilliseconds(200)),
    };

    [Fact]
    public void A_lost_nodes_pods_come_back_on_the_other_nodes()
    {
        var gateway = ControlPlaneHosting.Start(Sys, Store, Fast, Catalog);
        var agents = new[] { "node1", "node2", "node3" }
            .ToDictionary(n => n, n => Sys.ActorOf(FakeNodeAgent.Props(gateway, n, Beat)));
        // All three nodes Ready first: pods scheduled while a node is still registering would not be spread.
        AwaitAssert(() => Assert.Equal(3, All<V1Node>().Count(n =>
            n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)), TimeSpan.FromSeconds(30));
        var d = Seed(Deployment("web", 6, "web"));
        AwaitAssert(() =>
        {
            var pods = All<V1Pod>();
            Assert.Equal(6, pods.Count(p => p.Status?.Phase == "Running"));
            Assert.Equal(3, pods.Select(p => p.Spec.NodeName).Distinct().Count()); // spread over the three nodes
        }, TimeSpan.FromSeconds(20));
        var lost = All<V1Pod>().Where(p => p.Spec.NodeName == "node2").Select(p => p.Metadata.Name).ToList();
        Assert.NotEmpty(lost);

        Sys.Stop(agents["node2"]); // no more heartbeats

        AwaitAssert(() => Assert.Equal("Unknown",
            Find<V1Node>("node2")!.Status.Conditions.Single(c => c.Type == "Ready").Status), TimeSpan.FromSeconds(10));
        AwaitAssert(() =>
        {
            // the evicted pods stay Terminating while their node cannot confirm them stopped, as in Kubernetes
            var all = All<V1Pod>();
            Assert.All(all.Where(p => lost.Contains(p.Metadata.Name)), p => Assert.NotNull(p.Metadata.DeletionTimestamp));
            var pods = all.Where(p => p.Metadata.DeletionTimestamp is null).ToList();
            Assert.Equal(6, pods.Count);
            Assert.All(pods, p => Assert.NotEqual("node2", p.Spec.NodeName));
            Assert.All(pods, p => Assert.Equal("Running", p.Status?.Phase));
        }, TimeSpan.FromSeconds(20));
        Assert.Contains(Find<V1Node>("node2")!.Spec.Taints, t => t is { Key: "node.kubernetes.io/unreachable", Effect: "NoExecute" });
        Assert.Equal("True", Find<V1Node>("node1")!.Status.Conditions.Single(c => c.Type == "Ready").Status);
        Assert.Equal(6, Find<V1Deployment>("web")!.Spec.Replicas);
    }
}
