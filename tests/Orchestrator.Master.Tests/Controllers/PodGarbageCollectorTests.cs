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
        Seed(Node("lost"));
        Seed(Node("alive"));
        Seed(Pod("on-lost", App("web"), nodeName: "lost", phase: "Running", ready: true));
        Seed(Pod("terminating-on-lost", App("web"), nodeName: "lost", phase: "Running", ready: true));
        Seed(Pod("on-alive", App("web"), nodeName: "alive", phase: "Running", ready: true));
        Seed(Pod("pending", App("web")));
        // kubectl delete pod while the node was unreachable: only the node could have finished it
        Write(new DeleteObject(new ResourceKey("pods", "default", "terminating-on-lost"), GracePeriodSeconds: null));
        Assert.NotNull(Find<V1Pod>("terminating-on-lost")?.Metadata.DeletionTimestamp);
        Sys.ActorOf(PodGarbageCollector.Props(Store, Resync));

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
    public void A_pod_bound_to_a_node_that_never_existed_is_deleted_when_the_collector_starts()
    {
        Seed(Pod("ghost", App("web"), nodeName: "nowhere", phase: "Running"));
        Sys.ActorOf(PodGarbageCollector.Props(Store, Resync));
        AwaitAssert(() => Assert.Null(Find<V1Pod>("ghost")));
    }
}
