using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class ReplicaSetControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private IReadOnlyList<V1Pod> PodsOf(V1ReplicaSet rs) =>
        All<V1Pod>().Where(p => p.Metadata.OwnerReferences?.Any(o => o.Uid == rs.Metadata.Uid && o.Controller == true) == true).ToList();

    [Fact]
    public void Missing_pods_are_created_from_the_template_with_a_controller_reference()
    {
        var rs = Seed(ReplicaSet("web-abc", 3));
        Sys.ActorOf(ReplicaSetController.Props(Store, Resync));

        AwaitAssert(() => Assert.Equal(3, PodsOf(rs).Count));
        foreach (var pod in PodsOf(rs))
        {
            Assert.StartsWith("web-abc-", pod.Metadata.Name);
            Assert.Equal("web", pod.Metadata.Labels["app"]);
            Assert.Equal("default", pod.Metadata.NamespaceProperty);
            var owner = Assert.Single(pod.Metadata.OwnerReferences);
            Assert.Equal(("ReplicaSet", "web-abc", true), (owner.Kind, owner.Name, owner.BlockOwnerDeletion == true));
        }
        AwaitAssert(() => Assert.Equal(3, All<Corev1Event>().Count(e =>
            e.Reason == "SuccessfulCreate" && e.Message.StartsWith("Created pod: web-abc-") &&
            e.InvolvedObject.Uid == rs.Metadata.Uid && e.Source.Component == "replicaset-controller")));
    }

    [Fact]
    public void Surplus_pods_are_deleted_not_ready_and_most_recently_ready_first()
    {
        var rs = Seed(ReplicaSet("web-abc", 1));
        var now = DateTime.UtcNow;
        Seed(Pod("long-ready", App("web"), "n1", "Running", ready: true, readySince: now.AddHours(-2), owner: ControllerRef(rs)));
        Seed(Pod("just-ready", App("web"), "n1", "Running", ready: true, readySince: now.AddMinutes(-1), owner: ControllerRef(rs)));
        Seed(Pod("not-ready", App("web"), "n1", "Running", ready: false, owner: ControllerRef(rs)));

        Sys.ActorOf(ReplicaSetController.Props(Store, Resync));

        AwaitAssert(() => Assert.Equal(["long-ready"], PodsOf(rs).Select(p => p.Metadata.Name)));
        var deleted = new[] { Writes.FishForMessage<DeleteObject>(_ => true), Writes.FishForMessage<DeleteObject>(_ => true) };
        Assert.Equal(new[] { "just-ready", "not-ready" }, deleted.Select(d => d.Key.Name).Order());
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "SuccessfulDelete" && e.Message == "Deleted pod: just-ready"));
    }

    [Fact]
    public void Scaling_the_replica_set_creates_and_deletes_pods_and_status_follows()
    {
        var rs = Seed(ReplicaSet("web-abc", 1));
        Sys.ActorOf(ReplicaSetController.Props(Store, Resync));
        AwaitAssert(() => Assert.Single(PodsOf(rs)));

        var scaled = Find<V1ReplicaSet>("web-abc")!;
        scaled.Spec.Replicas = 3;
        Write(new UpdateObject("replicasets", scaled));
        AwaitAssert(() => Assert.Equal(3, PodsOf(rs).Count));
        AwaitAssert(() =>
        {
            var status = Find<V1ReplicaSet>("web-abc")!.Status;
            Assert.Equal((3, 3, 0, 2L), (status.Replicas, status.FullyLabeledReplicas ?? 0, status.ReadyReplicas ?? 0,
                status.ObservedGeneration ?? 0));
        });

        scaled = Find<V1ReplicaSet>("web-abc")!;
        scaled.Spec.Replicas = 0;
        Write(new UpdateObject("replicasets", scaled));
        AwaitAssert(() => Assert.Empty(PodsOf(rs)));
        AwaitAssert(() => Assert.Equal(0, Find<V1ReplicaSet>("web-abc")!.Status.Replicas));
    }

    [Fact]
    public void Orphans_matching_the_selector_are_adopted_instead_of_creating_new_pods()
    {
        Seed(Pod("stray", App("web"), "n1", "Running", ready: true));
        var rs = Seed(ReplicaSet("web-abc", 1));
        Sys.ActorOf(ReplicaSetController.Props(Store, Resync));

        AwaitAssert(() => Assert.Equal(["stray"], PodsOf(rs).Select(p => p.Metadata.Name)));
        AwaitAssert(() => Assert.Equal(1, Find<V1ReplicaSet>("web-abc")!.Status?.ReadyReplicas));
        Assert.Single(All<V1Pod>());
    }

    [Fact]
    public void An_orphan_delete_leaves_the_pods_orphans_and_they_are_not_adopted_by_the_deleted_owner()
    {
        var rs = Seed(ReplicaSet("web-abc", 2));
        Sys.ActorOf(ReplicaSetController.Props(Store, Resync));
        AwaitAssert(() => Assert.Equal(2, PodsOf(rs).Count));

        Write(new DeleteObject(new ResourceKey("replicasets", "default", "web-abc"), PropagationPolicy: "Orphan"));

        AwaitAssert(() => Assert.Null(Find<V1ReplicaSet>("web-abc")));
        // the controller saw orphans matching a cached owner; it must have read the store before adopting
        AwaitAssert(() => Assert.All(All<V1Pod>(), p => Assert.Empty(p.Metadata.OwnerReferences ?? [])));
        Thread.Sleep(TimeSpan.FromSeconds(1));
        Assert.Equal(2, All<V1Pod>().Count(p => (p.Metadata.OwnerReferences ?? []).Count == 0));
    }

    [Fact]
    public void Pods_are_created_in_slow_start_batches_that_stop_at_the_first_refusal()
    {
        var rs = Seed(ReplicaSet("web-abc", 7));
        var gate = Sys.ActorOf(PodCreateGate.Props(Store));
        Sys.ActorOf(ReplicaSetController.Props(gate, Resync));
        int Held() => gate.Ask<int>(new PodCreateGate.CountHeld(), TimeSpan.FromSeconds(10)).Result;
        V1ReplicaSetCondition? Failure() =>
            Find<V1ReplicaSet>("web-abc")?.Status?.Conditions?.FirstOrDefault(c => c.Type == "ReplicaFailure");

        // Batches of 1, then 2: the next batch waits for every answer of the last.
        AwaitAssert(() => Assert.Equal(1, Held()));
        gate.Tell(new PodCreateGate.Answer(Accept: 1));
        AwaitAssert(() => Assert.Equal(2, Held()));

        // One refusal ends the run: the 4 pods not yet sent are not sent, the status says why, and the next sync starts
        // again from one.
        gate.Tell(new PodCreateGate.Answer(Accept: 1, Refuse: 1));
        AwaitAssert(() => Assert.Equal(1, Held()));
        Assert.Equal(2, PodsOf(rs).Count);
        AwaitAssert(() => Assert.Equal(("True", "FailedCreate", "Too many requests, please try again later."),
            (Failure()?.Status, Failure()?.Reason, Failure()?.Message)));
        gate.Tell(new PodCreateGate.Answer(Accept: 1));
        AwaitAssert(() => Assert.Equal(2, Held()));
        gate.Tell(new PodCreateGate.Answer(Accept: 2));
        AwaitAssert(() => Assert.Equal(2, Held())); // 4 would be more than the 2 still missing
        gate.Tell(new PodCreateGate.Answer(Accept: 2));

        // Seven pods, not one more: the expectations held while the batches were out; a sync without failure clears
        // the condition.
        AwaitAssert(() => Assert.Equal(7, PodsOf(rs).Count));
        AwaitAssert(() => Assert.Null(Failure()));
        Assert.Equal(0, Held());
        Assert.Equal(7, PodsOf(rs).Count);
        var refused = Assert.Single(All<Corev1Event>(), e => e.Reason == "FailedCreate");
        Assert.Equal(("Warning", "Error creating: Too many requests, please try again later."), (refused.Type, refused.Message));
        AwaitAssert(() => Assert.Equal(7, All<Corev1Event>().Count(e => e.Reason == "SuccessfulCreate")));
    }
}
