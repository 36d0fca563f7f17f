using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Controllers.Deployments;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Orchestrator.Shared.Api;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class DeploymentControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private IReadOnlyList<V1ReplicaSet> ReplicaSetsOf(V1Deployment d) =>
        All<V1ReplicaSet>().Where(rs => rs.Metadata.OwnerReferences?.Any(o => o.Uid == d.Metadata.Uid) == true)
            .OrderBy(rs => rs.Metadata.CreationTimestamp).ToList();

    [Fact]
    public void A_deployment_gets_a_replica_set_named_by_its_template_hash()
    {
        var d = Seed(Deployment("webapp1", 1, "webapp1", new V1ContainerPort { ContainerPort = 80 }));
        Sys.ActorOf(DeploymentController.Props(Store, Resync));

        var hash = PodTemplateHash.Compute(d.Spec.Template);
        AwaitAssert(() => Assert.Single(ReplicaSetsOf(d)));
        var rs = ReplicaSetsOf(d)[0];
        Assert.Equal($"webapp1-{hash}", rs.Metadata.Name);
        Assert.Equal(1, rs.Spec.Replicas);
        Assert.Equal(hash, rs.Spec.Selector.MatchLabels["pod-template-hash"]);
        Assert.Equal("webapp1", rs.Spec.Selector.MatchLabels["app"]);
        Assert.Equal(hash, rs.Spec.Template.Metadata.Labels["pod-template-hash"]);
        Assert.Equal(hash, rs.Metadata.Labels["pod-template-hash"]);
        Assert.Equal("1", rs.Metadata.Annotations[DeploymentController.RevisionAnnotation]);
        var owner = Assert.Single(rs.Metadata.OwnerReferences);
        Assert.Equal(("Deployment", "webapp1", true, true), (owner.Kind, owner.Name, owner.Controller == true, owner.BlockOwnerDeletion == true));

        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "ScalingReplicaSet"
            && e.Message == $"Scaled up replica set webapp1-{hash} from 0 to 1" && e.InvolvedObject.Kind == "Deployment"
            && e.InvolvedObject.Name == "webapp1" && e.Source.Component == "deployment-controller" && e.Type == "Normal"));
        AwaitAssert(() =>
        {
            var stored = Find<V1Deployment>("webapp1")!;
            Assert.Equal("1", stored.Metadata.Annotations?[DeploymentController.RevisionAnnotation]);
            Assert.Equal(1L, stored.Status?.ObservedGeneration);
            Assert.Equal(1, stored.Status?.UnavailableReplicas);
        });
    }

    [Fact]
    public void Scaling_a_deployment_scales_its_replica_set()
    {
        var d = Seed(Deployment("webapp1", 1, "webapp1"));
        Sys.ActorOf(DeploymentController.Props(Store, Resync));
        AwaitAssert(() => Assert.Single(ReplicaSetsOf(d)));

        var scaled = Find<V1Deployment>("webapp1")!;
        scaled.Spec.Replicas = 3;
        Write(new UpdateObject("deployments", scaled));

        AwaitAssert(() => Assert.Equal(3, ReplicaSetsOf(d).Single().Spec.Replicas));
        var name = ReplicaSetsOf(d)[0].Metadata.Name;
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Message == $"Scaled up replica set {name} from 1 to 3"));
    }

    [Fact]
    public void A_rolling_update_surges_one_new_pod_and_keeps_the_old_ones_while_none_is_available()
    {
        var d = Seed(Deployment("web", 2, "web"));
        Sys.ActorOf(DeploymentController.Props(Store, Resync));
        Sys.ActorOf(ReplicaSetController.Props(Store, Resync));
        AwaitAssert(() => Assert.Equal(2, ReplicaSetsOf(d).Single().Status?.Replicas));

        var changed = Find<V1Deployment>("web")!;
        changed.Spec.Template.Spec.Containers[0].Image = "web:v2";
        Write(new UpdateObject("deployments", changed));

        // 25% of 2: maxSurge 1, maxUnavailable 0 — and no pod is ever ready here.
        AwaitAssert(() =>
        {
            var sets = ReplicaSetsOf(d);
            Assert.Equal(2, sets.Count);
            Assert.Equal((2, 1), (sets[0].Spec.Replicas ?? 0, sets[1].Spec.Replicas ?? 0));
            Assert.Equal("2", sets[1].Metadata.Annotations[DeploymentController.RevisionAnnotation]);
        });
        AwaitAssert(() => Assert.Equal(3, All<V1Pod>().Count));
        AwaitAssert(() => Assert.Equal(
            ("True", DeploymentStatusCalculator.ReplicaSetUpdated),
            Find<V1Deployment>("web")!.Status.Conditions.Where(c => c.Type == "Progressing").Select(c => (c.Status, c.Reason)).Single()));
    }

    [Fact]
    public void Recreate_scales_the_old_replica_set_to_zero_before_the_new_one_comes_up()
    {
        var seeded = Deployment("web", 2, "web");
        seeded.Spec.Strategy = new V1DeploymentStrategy { Type = "Recreate" };
        var d = Seed(seeded);
        Sys.ActorOf(DeploymentController.Props(Store, Resync));
        Sys.ActorOf(ReplicaSetController.Props(Store, Resync));
        AwaitAssert(() => Assert.Equal(2, ReplicaSetsOf(d).Single().Status?.Replicas));
        var oldPods = All<V1Pod>().Select(p => p.Metadata.Name).ToHashSet();

        var changed = Find<V1Deployment>("web")!;
        changed.Spec.Template.Spec.Containers[0].Image = "web:v2";
        Write(new UpdateObject("deployments", changed));

        AwaitAssert(() =>
        {
            var sets = ReplicaSetsOf(d);
            Assert.Equal(2, sets.Count);
            Assert.Equal((0, 2), (sets[0].Spec.Replicas ?? 0, sets[1].Spec.Replicas ?? 0));
            var pods = All<V1Pod>();
            Assert.Equal(2, pods.Count);
            Assert.DoesNotContain(pods, p => oldPods.Contains(p.Metadata.Name));
        });
    }
}

public sealed class PodTemplateHashTests
{
    [Fact]
    public void The_hash_is_stable_dns_safe_and_ignores_its_own_label_and_key_order()
    {
        var template = Template(new Dictionary<string, string> { ["app"] = "web", ["tier"] = "front" });
        var reordered = Template(new Dictionary<string, string> { ["tier"] = "front", ["app"] = "web" });
        var hash = PodTemplateHash.Compute(template);

        Assert.Equal(hash, PodTemplateHash.Compute(KubeObjects.Clone(template)));
        Assert.Equal(hash, PodTemplateHash.Compute(reordered));
        Assert.Equal(hash, PodTemplateHash.Compute(PodTemplateHash.WithHashLabel(template, hash)));
        Assert.Matches("^[bcdfghjklmnpqrstvwxz2456789]{1,10}$", hash);
    }

    [Fact]
    public void A_different_template_or_collision_count_gives_a_different_hash()
    {
        var template = Template(new Dictionary<string, string> { ["app"] = "web" });
        var other = KubeObjects.Clone(template);
        other.Spec.Containers[0].Image = "web:v2";

        Assert.NotEqual(PodTemplateHash.Compute(template), PodTemplateHash.Compute(other));
        Assert.NotEqual(PodTemplateHash.Compute(template), PodTemplateHash.Compute(template, 1));
    }
}
