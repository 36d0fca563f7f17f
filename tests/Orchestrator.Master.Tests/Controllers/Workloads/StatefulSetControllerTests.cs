using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers.Workloads;

public sealed class StatefulSetControllerTests(ITestOutputHelper output) : WorkloadTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private static V1StatefulSet StatefulSet(string name, int replicas, Action<V1StatefulSetSpec>? configure = null)
    {
        var set = new V1StatefulSet
        {
            ApiVersion = "apps/v1", Kind = "StatefulSet",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
            Spec = new V1StatefulSetSpec
            {
                Replicas = replicas, ServiceName = "nginx",
                Selector = new V1LabelSelector { MatchLabels = App(name) },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = App(name) },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "web", Image = "nginx:1" }] },
                },
            },
        };
        configure?.Invoke(set.Spec);
        return set;
    }

    private IReadOnlyList<string> PodNames() => All<V1Pod>().Where(p => p.Metadata.DeletionTimestamp is null).Select(p => p.Metadata.Name).Order().ToList();

    private void Run(string name)
    {
        var pod = Find<V1Pod>(name)!;
        pod.Status = new V1PodStatus
        {
            Phase = "Running",
            Conditions = [new V1PodCondition { Type = "Ready", Status = "True", LastTransitionTime = DateTime.UtcNow }],
        };
        Write(new UpdateObject("pods", pod, "status"));
    }

    [Fact]
    public void Ordered_ready_creates_each_pod_after_the_one_before_is_ready_and_scales_down_from_the_top()
    {
        var set = Seed(StatefulSet("web", 3));
        Sys.ActorOf(StatefulSetController.Props(Store, Resync));

        AwaitAssert(() => Assert.Equal(["web-0"], PodNames()));
        var first = Find<V1Pod>("web-0")!;
        Assert.Equal(("web-0", "nginx"), (first.Spec.Hostname, first.Spec.Subdomain));
        Assert.Equal(("web-0", "0"), (first.Metadata.Labels["statefulset.kubernetes.io/pod-name"], first.Metadata.Labels["apps.kubernetes.io/pod-index"]));
        Assert.Equal(set.Metadata.Uid, first.Metadata.OwnerReferences.Single().Uid);

        Run("web-0");
        AwaitAssert(() => Assert.Equal(["web-0", "web-1"], PodNames()));
        Run("web-1");
        AwaitAssert(() => Assert.Equal(["web-0", "web-1", "web-2"], PodNames()));
        Run("web-2");
        AwaitAssert(() =>
        {
            var status = Find<V1StatefulSet>("web")!.Status;
            Assert.Single(All<V1ControllerRevision>());
            Assert.Equal((3, 3, 3, 3), (status.Replicas, status.ReadyReplicas ?? 0, status.AvailableReplicas ?? 0, status.UpdatedReplicas ?? 0));
            Assert.Equal(status.CurrentRevision, status.UpdateRevision);
            Assert.StartsWith("web-", status.UpdateRevision);
        });

        Modify<V1StatefulSet>("web", s => s.Spec.Replicas = 1);
        var deleted = Writes.FishForMessage<DeleteObject>(d => d.Key.Resource == "pods");
        Assert.Equal("web-2", deleted.Key.Name);
        AwaitAssert(() => Assert.Equal(["web-0"], PodNames()));
        Writes.FishForMessage<DeleteObject>(d => d.Key.Resource == "pods" && d.Key.Name == "web-1");
    }

    [Fact]
    public void Parallel_creates_every_pod_at_once_and_a_deleted_pod_comes_back_under_its_name()
    {
        Seed(StatefulSet("db", 3, s => s.PodManagementPolicy = "Parallel"));
        Sys.ActorOf(StatefulSetController.Props(Store, Resync));
        AwaitAssert(() => Assert.Equal(["db-0", "db-1", "db-2"], PodNames()));
        var uid = Find<V1Pod>("db-1")!.Metadata.Uid;
        Write(new DeleteObject(new ResourceKey("pods", "default", "db-1")));
        AwaitAssert(() => Assert.NotEqual(uid, Find<V1Pod>("db-1")?.Metadata.Uid ?? uid));
    }

    [Fact]
    public void A_rolling_update_replaces_pods_from_the_highest_ordinal_down_to_the_partition()
    {
        Seed(StatefulSet("web", 3, s => s.PodManagementPolicy = "Parallel"));
        Sys.ActorOf(StatefulSetController.Props(Store, Resync));
        AwaitAssert(() => Assert.Equal(3, PodNames().Count));
        foreach (var name in PodNames()) Run(name);
        AwaitAssert(() => Assert.Equal(3, Find<V1StatefulSet>("web")!.Status.AvailableReplicas));
        var oldRevision = Find<V1StatefulSet>("web")!.Status.CurrentRevision;

        Modify<V1StatefulSet>("web", s =>
        {
            s.Spec.Template.Spec.Containers[0].Image = "nginx:2";
            s.Spec.UpdateStrategy = new V1StatefulSetUpdateStrategy
            {
                Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateStatefulSetStrategy { Partition = 1 },
            };
        });
        AwaitAssert(() =>
        {
            foreach (var pod in All<V1Pod>().Where(p => p.Status?.Phase != "Running")) Run(pod.Metadata.Name);
            Assert.Equal("nginx:2", Find<V1Pod>("web-2")?.Spec.Containers[0].Image);
            Assert.Equal("nginx:2", Find<V1Pod>("web-1")?.Spec.Containers[0].Image);
        });
        Assert.Equal("nginx:1", Find<V1Pod>("web-0")!.Spec.Containers[0].Image);
        AwaitAssert(() =>
        {
            var status = Find<V1StatefulSet>("web")!.Status;
            Assert.Equal((2, oldRevision), (status.UpdatedReplicas ?? 0, status.CurrentRevision));
            Assert.NotEqual(oldRevision, status.UpdateRevision);
        });

        Modify<V1StatefulSet>("web", s => s.Spec.UpdateStrategy.RollingUpdate.Partition = 0);
        AwaitAssert(() =>
        {
            foreach (var pod in All<V1Pod>().Where(p => p.Status?.Phase != "Running")) Run(pod.Metadata.Name);
            Assert.Equal("nginx:2", Find<V1Pod>("web-0")?.Spec.Containers[0].Image);
        });
        AwaitAssert(() =>
        {
            var status = Find<V1StatefulSet>("web")!.Status;
            Assert.Equal(status.UpdateRevision, status.CurrentRevision);
        });
    }

    private static void WithClaims(V1StatefulSetSpec spec, string whenDeleted = "Retain", string whenScaled = "Retain")
    {
        spec.PodManagementPolicy = "Parallel";
        spec.VolumeClaimTemplates =
        [
            new V1PersistentVolumeClaim
            {
                Metadata = new V1ObjectMeta { Name = "www", Labels = new Dictionary<string, string> { ["tier"] = "data" } },
                Spec = new V1PersistentVolumeClaimSpec
                {
                    AccessModes = ["ReadWriteOnce"],
                    Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") } },
                },
            },
        ];
        spec.PersistentVolumeClaimRetentionPolicy = new V1StatefulSetPersistentVolumeClaimRetentionPolicy { WhenDeleted = whenDeleted, WhenScaled = whenScaled };
    }

    [Fact]
    public void Each_pod_gets_its_own_claim_labelled_with_the_selector_and_the_claim_outlives_the_pod()
    {
        Seed(StatefulSet("web", 2, s => WithClaims(s)));
        Sys.ActorOf(StatefulSetController.Props(Store, Resync));

        AwaitAssert(() => Assert.Equal(["web-0", "web-1"], PodNames()));
        var claims = All<V1PersistentVolumeClaim>().OrderBy(c => c.Metadata.Name).ToList();
        Assert.Equal(["www-web-0", "www-web-1"], claims.Select(c => c.Metadata.Name));
        Assert.Equal(new Dictionary<string, string> { ["tier"] = "data", ["app"] = "web" }, new Dictionary<string, string>(claims[0].Metadata.Labels));
        Assert.Null(claims[0].Metadata.OwnerReferences);
        var volume = Find<V1Pod>("web-1")!.Spec.Volumes.Single(v => v.Name == "www");
        Assert.Equal("www-web-1", volume.PersistentVolumeClaim.ClaimName);

        var uid = Find<V1Pod>("web-1")!.Metadata.Uid;
        Write(new DeleteObject(new ResourceKey("pods", "default", "web-1")));
        AwaitAssert(() => Assert.NotEqual(uid, Find<V1Pod>("web-1")?.Metadata.Uid ?? uid));
        Assert.Equal(claims[1].Metadata.Uid, Find<V1PersistentVolumeClaim>("www-web-1")!.Metadata.Uid);
    }

    [Fact]
    public void Retention_when_deleted_delete_makes_the_set_the_claims_owner()
    {
        var set = Seed(StatefulSet("web", 1, s => WithClaims(s, whenDeleted: "Delete")));
        Sys.ActorOf(StatefulSetController.Props(Store, Resync));
        var owner = AwaitAssertReturn(() => Find<V1PersistentVolumeClaim>("www-web-0")!.Metadata.OwnerReferences.Single());
        Assert.Equal((set.Metadata.Uid, "StatefulSet", true), (owner.Uid, owner.Kind, owner.Controller));

        Modify<V1StatefulSet>("web", s => s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = "Retain");
        AwaitAssert(() => Assert.Empty(Find<V1PersistentVolumeClaim>("www-web-0")!.Metadata.OwnerReferences ?? []));
    }

    [Fact]
    public void Retention_when_scaled_delete_hands_a_scaled_down_pods_claim_to_the_pod()
    {
        Seed(StatefulSet("web", 2, s => WithClaims(s, whenDeleted: "Delete", whenScaled: "Delete")));
        Sys.ActorOf(StatefulSetController.Props(Store, Resync));
        AwaitAssert(() => Assert.Equal(2, All<V1PersistentVolumeClaim>().Count));
        var pod = Find<V1Pod>("web-1")!;

        Modify<V1StatefulSet>("web", s => s.Spec.Replicas = 1);
        Writes.FishForMessage<DeleteObject>(d => d.Key.Resource == "pods" && d.Key.Name == "web-1");
        AwaitAssert(() =>
        {
            var owner = Find<V1PersistentVolumeClaim>("www-web-1")!.Metadata.OwnerReferences.Single();
            Assert.Equal((pod.Metadata.Uid, "Pod"), (owner.Uid, owner.Kind));
        });
        Assert.Equal("StatefulSet", Find<V1PersistentVolumeClaim>("www-web-0")!.Metadata.OwnerReferences.Single().Kind);
    }
}
