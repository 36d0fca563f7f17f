using k8s.Models;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Scheduling;

public sealed class ResourceSchedulerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static V1Node Sized(string name, string cpu)
    {
        var node = Node(name);
        node.Status.Allocatable = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new("4Gi") };
        return node;
    }

    private static V1Pod Requesting(string name, string cpu, string? nodeName = null)
    {
        var pod = Pod(name, App("web"), nodeName: nodeName, phase: nodeName is null ? null : "Running");
        pod.Spec.Containers[0].Resources = new V1ResourceRequirements
        {
            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu) },
        };
        return pod;
    }

    [Fact]
    public void A_pod_too_big_for_every_node_waits_with_FailedScheduling_and_is_placed_when_a_big_enough_node_joins()
    {
        Seed(Sized("small", "1"));
        Seed(Requesting("big", "2"));
        Sys.ActorOf(Scheduler.Props(Store, TimeSpan.FromMinutes(5)));

        const string message = "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "FailedScheduling" && e.Message == message
            && e.InvolvedObject.Name == "big"));
        Assert.Null(Find<V1Pod>("big")!.Spec.NodeName);

        Seed(Sized("large", "4"));

        AwaitAssert(() => Assert.Equal("large", Find<V1Pod>("big")!.Spec.NodeName));
    }

    [Fact]
    public void Pods_being_bound_count_against_the_node_so_two_at_once_do_not_overcommit_it()
    {
        Seed(Sized("a", "1"));
        Seed(Sized("b", "1"));
        Seed(Requesting("p1", "700m"));
        Seed(Requesting("p2", "700m"));
        Sys.ActorOf(Scheduler.Props(Store, TimeSpan.FromMinutes(5)));

        AwaitAssert(() =>
        {
            var nodes = All<V1Pod>().Select(p => p.Spec.NodeName).ToList();
            Assert.DoesNotContain(null, nodes);
            Assert.Equal(2, nodes.Distinct().Count());
        });
    }
}
