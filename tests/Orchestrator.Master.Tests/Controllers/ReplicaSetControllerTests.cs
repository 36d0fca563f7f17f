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
}
