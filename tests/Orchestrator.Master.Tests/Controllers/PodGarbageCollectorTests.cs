using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class PodGarbageCollectorTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    [Fact]
    public void Pods_of_a_deleted_node_are_deleted_even_while_terminating_and_other_pods_stay()
    {
        // started first, so that it has the nodes in its cache when one is deleted (a node missing from its first list
        // is one it has not seen: quarantined, below)
        Sys.ActorOf(PodGarbageCollector.Props(Store, Resync));
        Seed(Node("lost"));
        Seed(Node("alive"));
        Seed(Pod("on-lost", App("web"), nodeName: "lost", phase: "Running", ready: true));
        Seed(Pod("terminating-on-lost", App("web"), nodeName: "lost", phase: "Running", ready: true));
        Seed(Pod("on-alive", App("web"), nodeName: "alive", phase: "Running", ready: true));
        Seed(Pod("pending", App("web")));
        // kubectl delete pod while the node was unreachable: only the node could have finished it
        Write(new DeleteObject(new ResourceKey("pods", "default", "terminating-on-lost"), GracePeriodSeconds: null));
        Assert.NotNull(Find<V1Pod>("terminating-on-lost")?.Metadata.DeletionTimestamp);

        Write(new DeleteObject(new ResourceKey("nodes", null, "lost")));

        AwaitAssert(() =>
        {
            Assert.Null(Find<V1Pod>("on-lost"));
            Assert.Null(Find<V1Pod>("terminating-on-lost"));
        });
        Assert.NotNull(Find<V1Pod>("on-alive"));
        Assert.NotNull(Find<V1Pod>("pending"));
    }

    [Fact]
    public void A_pod_bound_to_a_node_that_never_existed_is_deleted_after_the_quarantine()
    {
        Seed(Pod("ghost", App("web"), nodeName: "nowhere", phase: "Running"));
        Sys.ActorOf(PodGarbageCollector.Props(Store, Resync, quarantine: TimeSpan.FromMilliseconds(300)));
        AwaitAssert(() => Assert.Null(Find<V1Pod>("ghost")));
    }

    [Fact]
    public void A_pod_bound_to_a_node_not_seen_yet_is_kept_through_the_quarantine_while_a_deleted_node_s_pods_go_at_once()
    {
        Sys.ActorOf(PodGarbageCollector.Props(Store, Resync, quarantine: TimeSpan.FromHours(1)));
        Seed(Node("lost"));
        Seed(Pod("early", App("web"), nodeName: "joining", phase: "Pending"));
        Seed(Pod("on-lost", App("web"), nodeName: "lost", phase: "Running"));

        Write(new DeleteObject(new ResourceKey("nodes", null, "lost")));
        AwaitAssert(() => Assert.Null(Find<V1Pod>("on-lost")));
        Assert.NotNull(Find<V1Pod>("early"));

        // the node registers: its pod stays; once deleted, its pods go without a quarantine
        Seed(Node("joining"));
        Write(new DeleteObject(new ResourceKey("nodes", null, "joining")));
        AwaitAssert(() => Assert.Null(Find<V1Pod>("early")));
    }

    private static V1Node OutOfService(V1Node node, string effect = "NoExecute")
    {
        node.Spec.Taints = [new V1Taint { Key = "node.kubernetes.io/out-of-service", Value = "nodeshutdown", Effect = effect }];
        return node;
    }

    private void Terminate(string pod) =>
        Write(new DeleteObject(new ResourceKey("pods", "default", pod), GracePeriodSeconds: null));

    [Fact]
    public void Terminating_pods_of_a_NotReady_out_of_service_node_are_marked_failed_and_force_deleted_and_no_others()
    {
        Seed(OutOfService(Node("down", ready: false)));
        Seed(OutOfService(Node("back", ready: true), effect: "NoSchedule")); // Ready again: its pods are its kubelet's
        Seed(Node("cut", ready: false)); // NotReady, but nobody said it is down
        foreach (var (pod, node) in new[] { ("t-down", "down"), ("run-down", "down"), ("t-back", "back"), ("t-cut", "cut") })
            Seed(Pod(pod, App("db"), nodeName: node, phase: "Running", ready: true));
        foreach (var pod in new[] { "t-down", "t-back", "t-cut" }) Terminate(pod);
        Writes.ReceiveWhile<object>(TimeSpan.FromMilliseconds(300), m => m); // the seeding writes

        Sys.ActorOf(PodGarbageCollector.Props(Store, Resync));
        AwaitAssert(() => Assert.Null(Find<V1Pod>("t-down")));
        var writes = Writes.ReceiveWhile<object>(TimeSpan.FromMilliseconds(500), m => m);
        Assert.Contains(writes, w => w is UpdateObject { Subresource: "status", Object: V1Pod { Status.Phase: "Failed" } p } && p.Metadata.Name == "t-down");
        Assert.NotNull(Find<V1Pod>("run-down")); // not terminating: the taint eviction controller's business
        Assert.NotNull(Find<V1Pod>("t-back"));
        Assert.NotNull(Find<V1Pod>("t-cut"));
    }

    [Fact]
    public void Tainting_a_NotReady_node_out_of_service_force_deletes_its_terminating_pods_at_once()
    {
        Seed(Node("cut", ready: false));
        Seed(Pod("t-cut", App("db"), nodeName: "cut", phase: "Running", ready: true));
        Terminate("t-cut");
        Sys.ActorOf(PodGarbageCollector.Props(Store, Resync)); // no resync within the test: the node's change does it
        Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1), m => m);
        Assert.NotNull(Find<V1Pod>("t-cut"));

        Write(new UpdateObject("nodes", OutOfService(Find<V1Node>("cut")!)));
        AwaitAssert(() => Assert.Null(Find<V1Pod>("t-cut")));
    }
}
