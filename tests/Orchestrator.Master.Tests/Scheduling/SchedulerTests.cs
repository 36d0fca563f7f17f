using k8s.Models;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Scheduling;

public sealed class SchedulerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private static V1ContainerPort HostPort(int port) => new() { ContainerPort = 80, HostPort = port, Protocol = "TCP" };

    [Fact]
    public void A_pending_pod_is_bound_to_a_ready_node_and_marked_scheduled()
    {
        Seed(Node("sick", ready: false));
        Seed(Node("healthy"));
        Seed(Pod("web-1", App("web")));
        Sys.ActorOf(Scheduler.Props(Store, Resync));

        AwaitAssert(() =>
        {
            var pod = Find<V1Pod>("web-1")!;
            Assert.Equal("healthy", pod.Spec.NodeName);
            Assert.Equal("True", pod.Status?.Conditions?.Single(c => c.Type == "PodScheduled").Status);
        });
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "Scheduled" && e.Type == "Normal"
            && e.Message == "Successfully assigned default/web-1 to healthy" && e.Source.Component == "default-scheduler"
            && e.InvolvedObject.Kind == "Pod" && e.InvolvedObject.Name == "web-1"));
    }

    [Fact]
    public void The_bindings_of_a_long_queue_go_to_the_store_a_slice_at_a_time_while_the_rest_is_decided()
    {
        Seed(Node("node1"));
        Seed(Node("node2"));
        Seed(Node("node3"));
        for (var i = 0; i < 150; i++) Seed(Pod($"web-{i:D3}", App("web")));
        Sys.ActorOf(Scheduler.Props(Store, Resync));

        // the 150 pods are queued at once when the scheduler has listed them: the first batch holds the first slice's
        // bindings (64), sent before the next slice is decided, not all 150 after the last
        var first = Writes.FishForMessage<WriteObjects>(w => w.Requests.Any(IsBinding), TimeSpan.FromSeconds(30));
        Assert.Equal(64, first.Requests.Count(IsBinding));
        AwaitAssert(() => Assert.All(All<V1Pod>(), p => Assert.False(string.IsNullOrEmpty(p.Spec.NodeName))), TimeSpan.FromSeconds(30));
        Assert.All(All<V1Pod>().GroupBy(p => p.Spec.NodeName), g => Assert.Equal(50, g.Count()));
    }

    private static bool IsBinding(object request) => request is UpdateObject { Subresource: "binding" };

    [Fact]
    public void A_pod_whose_host_port_is_taken_stays_pending_until_the_port_is_freed()
    {
        Seed(Node("node1"));
        Seed(Pod("holder", App("web"), nodeName: "node1", phase: "Running", ports: HostPort(8001)));
        Seed(Pod("waiter", App("web"), ports: HostPort(8001)));
        Sys.ActorOf(Scheduler.Props(Store, Resync));

        const string message = "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. " +
            "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";
        AwaitAssert(() =>
        {
            var pod = Find<V1Pod>("waiter")!;
            Assert.Null(pod.Spec.NodeName);
            var condition = pod.Status?.Conditions?.Single(c => c.Type == "PodScheduled");
            Assert.Equal(("False", "Unschedulable", message), (condition?.Status, condition?.Reason, condition?.Message));
        });
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "FailedScheduling" && e.Type == "Warning"
            && e.Message == message && e.InvolvedObject.Name == "waiter"));

        Write(new DeleteObject(new ResourceKey("pods", "default", "holder")));
        AwaitAssert(() => Assert.Equal("node1", Find<V1Pod>("waiter")!.Spec.NodeName));
    }

    [Fact]
    public void Two_new_pods_wanting_one_host_port_never_share_a_node()
    {
        Seed(Node("node1"));
        Seed(Pod("first", App("web"), ports: HostPort(8001)));
        Seed(Pod("second", App("web"), ports: HostPort(8001)));
        Sys.ActorOf(Scheduler.Props(Store, Resync));

        AwaitAssert(() => Assert.Single(All<V1Pod>(), p => p.Spec.NodeName == "node1"));
        AwaitAssert(() => Assert.Single(All<V1Pod>(), p =>
            p.Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Reason == "Unschedulable") == true));
        Assert.Single(All<V1Pod>(), p => p.Spec.NodeName is null);
    }

    [Fact]
    public void A_node_becoming_ready_lets_a_waiting_pod_be_scheduled()
    {
        Seed(Node("node1", ready: false));
        Seed(Pod("web-1", App("web")));
        Sys.ActorOf(Scheduler.Props(Store, Resync));
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "FailedScheduling"
            && e.Message == "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. " +
            "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."));

        var node = Find<V1Node>("node1")!;
        node.Status.Conditions[0].Status = "True";
        Write(new UpdateObject("nodes", node, "status"));

        AwaitAssert(() => Assert.Equal("node1", Find<V1Pod>("web-1")!.Spec.NodeName));
    }
}
