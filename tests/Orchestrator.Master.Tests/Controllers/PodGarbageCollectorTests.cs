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
}
