using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Controllers.Deployments;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers;

/// <summary>The whole control plane on the real store with a node that runs nothing: the tutorial's
/// deployment/service/scale/delete story, as far as the master is concerned.</summary>
public sealed class ControlPlaneTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(15);

    private List<string> RunningOn(IActorRef agent) =>
        agent.Ask<List<string>>(new FakeNodeAgent.CurrentPods(), TimeSpan.FromSeconds(5)).Result;

    [Fact]
    public void A_deployment_and_its_service_come_up_scale_and_go_away()
    {
        var gateway = ControlPlaneHosting.Start(Sys, Store, ControlPlaneOptions.Default, Catalog);
        var agent = Sys.ActorOf(FakeNodeAgent.Props(gateway, "node1"));
        var d = Seed(Deployment("webapp1", 1, "webapp1", new V1ContainerPort { ContainerPort = 80 }));
        Seed(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "webapp1-svc", NamespaceProperty = "default" },
            Spec = new V1ServiceSpec
            {
                Type = "NodePort", Selector = App("webapp1"),
                Ports = [new V1ServicePort { Port = 80, NodePort = 30080, Protocol = "TCP" }],
            },
        });
        var hash = PodTemplateHash.Compute(Find<V1Deployment>("webapp1")!.Spec.Template);

        AwaitAssert(() =>
        {
            var status = Find<V1Deployment>("webapp1")!.Status;
            Assert.Equal((1, 1, 1, 1), (status.Replicas ?? 0, status.UpdatedReplicas ?? 0, status.ReadyReplicas ?? 0, status.AvailableReplicas ?? 0));
            Assert.Equal(["Available/MinimumReplicasAvailable", "Progressing/NewReplicaSetAvailable"],
                status.Conditions.Select(c => $"{c.Type}/{c.Reason}"));
        }, Long);
        AwaitAssert(() => Assert.Single(RunningOn(agent)), Long);
        AwaitAssert(() => Assert.Single(Find<V1Endpoints>("webapp1-svc")!.Subsets.Single().Addresses), Long);
        // Events are written beside the status, not before it: wait for them too.
        AwaitAssert(() =>
        {
            var events = All<Corev1Event>();
            Assert.Contains(events, e => e.Reason == "ScalingReplicaSet" && e.Message == $"Scaled up replica set webapp1-{hash} from 0 to 1"
                                         && e.InvolvedObject.Uid == d.Metadata.Uid);
            Assert.Contains(events, e => e.Reason == "SuccessfulCreate" && e.Message.StartsWith($"Created pod: webapp1-{hash}-"));
            Assert.Contains(events, e => e.Reason == "Scheduled" && e.Message.EndsWith(" to node1"));
        }, Long);

        // Settled: no controller keeps writing (a status that never compares equal would loop here).
        // Late node reports (pod status from the fake agent) may still trickle in and are not controllers' writes;
        // a controller in a loop would keep writing through the whole window.
        Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1), m => m, int.MaxValue);
        var late = Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2), m => m, int.MaxValue);
        Assert.DoesNotContain(late, m => m is not UpdateObject { Resource: "pods", Subresource: "status" });

        var scaled = Find<V1Deployment>("webapp1")!;
        scaled.Spec.Replicas = 3;
        Write(new UpdateObject("deployments", scaled));
        AwaitAssert(() => Assert.Equal(3, Find<V1Deployment>("webapp1")!.Status.AvailableReplicas), Long);
        AwaitAssert(() => Assert.Equal(3, RunningOn(agent).Count), Long);
        AwaitAssert(() => Assert.Equal(3, Find<V1Endpoints>("webapp1-svc")!.Subsets.Single().Addresses.Count), Long);

        Write(new DeleteObject(new ResourceKey("deployments", "default", "webapp1")));
        AwaitAssert(() => Assert.Empty(All<V1Pod>()), Long);
        AwaitAssert(() => Assert.Empty(RunningOn(agent)), Long);
        AwaitAssert(() => Assert.Null(Find<V1Endpoints>("webapp1-svc")!.Subsets), Long);
        Assert.Empty(All<V1ReplicaSet>());
    }
}
