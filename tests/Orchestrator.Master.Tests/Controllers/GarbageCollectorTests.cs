using Akka.TestKit;
using k8s;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class GarbageCollectorTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private static V1OwnerReference RefTo(string kind, string apiVersion, string name, string uid) => new()
    {
        ApiVersion = apiVersion, Kind = kind, Name = name, Uid = uid, Controller = true, BlockOwnerDeletion = true,
    };

    [Fact]
    public void Objects_whose_owners_are_gone_are_deleted_and_others_are_kept()
    {
        var rs = Seed(ReplicaSet("web-abc", 1));
        Seed(Pod("owned", App("web"), owner: ControllerRef(rs)));
        Seed(Pod("orphaned", App("web"), owner: RefTo("ReplicaSet", "apps/v1", "web-abc", "an-older-uid")));
        Seed(Pod("free", App("web")));
        Sys.ActorOf(GarbageCollector.Props(Store, Resync, Catalog));

        AwaitAssert(() => Assert.Null(Find<V1Pod>("orphaned")));
        Assert.NotNull(Find<V1Pod>("owned"));
        Assert.NotNull(Find<V1Pod>("free"));
    }

    [Fact]
    public void Deleting_an_owner_in_the_background_removes_its_dependents_transitively()
    {
        var d = Seed(Deployment("web", 1, "web"));
        var rs = Seed(WithOwner(ReplicaSet("web-abc", 1), RefTo("Deployment", "apps/v1", "web", d.Metadata.Uid)));
        Seed(Pod("web-abc-1", App("web"), owner: ControllerRef(rs)));
        Sys.ActorOf(GarbageCollector.Props(Store, Resync, Catalog));

        Write(new DeleteObject(new ResourceKey("deployments", "default", "web")));

        AwaitAssert(() => Assert.Empty(All<V1ReplicaSet>()));
        AwaitAssert(() => Assert.Empty(All<V1Pod>()));
    }

    [Fact]
    public void A_resource_no_longer_served_does_not_stop_the_collector()
    {
        // As when a custom resource's definition is deleted right after the collector saw a change in it: the list
        // of the resource fails (404) and must not keep the collector from acting on everything else.
        var d = Seed(Deployment("web", 1, "web"));
        Seed(WithOwner(ReplicaSet("web-abc", 1), RefTo("Deployment", "apps/v1", "web", d.Metadata.Uid)));
        var collector = Sys.ActorOf(GarbageCollector.Props(Store, Resync, Catalog));
        collector.Tell(new ForeignDeletions.ResourceSeen("gadgets.stable.example.com"), TestActor);

        Write(new DeleteObject(new ResourceKey("deployments", "default", "web")));

        AwaitAssert(() => Assert.Empty(All<V1ReplicaSet>()));
    }

    [Fact]
    public void Foreground_deletion_removes_dependents_before_the_owner()
    {
        var d = Seed(Deployment("web", 1, "web"));
        var rs = Seed(WithOwner(ReplicaSet("web-abc", 1), RefTo("Deployment", "apps/v1", "web", d.Metadata.Uid)));
        Seed(Pod("web-abc-1", App("web"), owner: ControllerRef(rs)));
        Sys.ActorOf(GarbageCollector.Props(Store, Resync, Catalog));

        Write(new DeleteObject(new ResourceKey("deployments", "default", "web"), PropagationPolicy: "Foreground"));

        AwaitAssert(() => Assert.Empty(All<V1Deployment>()));
        Assert.Empty(All<V1ReplicaSet>());
        Assert.Empty(All<V1Pod>());
    }

    [Fact]
    public void An_owner_missing_only_from_the_cache_is_confirmed_with_the_store_and_its_dependent_kept()
    {
        var store = CreateTestProbe("probe-store");
        Sys.ActorOf(GarbageCollector.Props(store, Resync, Catalog));
        var owner = ReplicaSet("web-abc", 1);
        owner.Metadata.Uid = "rs-uid";
        var pod = Pod("web-abc-1", App("web"), owner: ControllerRef(owner));
        pod.Metadata.Uid = "pod-uid";

        // Pods are listed with the pod; the ReplicaSet's list comes back empty (its watch has not caught up).
        store.AnswerListsAndWatches(GarbageCollector.InitialResources(Catalog).Count,
            resource => resource == "pods" ? [pod] : new List<IKubernetesObject<V1ObjectMeta>>());
        var get = (GetObject)store.FishForMessage(m => m is GetObject);
        Assert.Equal(new ResourceKey("replicasets", "default", "web-abc"), get.Key);
        store.Reply(new ObjectStored(owner));

        store.ExpectNo<DeleteObject>(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public void Foreground_deletion_in_a_resource_the_collector_does_not_watch_deletes_the_dependents_then_the_owner()
    {
        // An orphan whose removal shows the collector (and its watch of every resource) at work before the delete.
        Seed(Pod("leftover", App("old"), owner: RefTo("ReplicaSet", "apps/v1", "gone", "a-gone-uid")));
        var job = Seed(new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta { Name = "report", NamespaceProperty = "default" },
            Spec = new V1JobSpec { Template = WithRestartPolicy(Template(App("report")), "Never") },
        });
        Seed(Pod("report-x", App("report"), owner: RefTo("Job", "batch/v1", "report", job.Metadata.Uid)));
        var hpa = Seed(new V2HorizontalPodAutoscaler
        {
            ApiVersion = "autoscaling/v2",
            Kind = "HorizontalPodAutoscaler",
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V2HorizontalPodAutoscalerSpec
            {
                MaxReplicas = 3,
                ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "web" },
            },
        });
        Sys.ActorOf(GarbageCollector.Props(Store, Resync, Catalog));
        AwaitAssert(() => Assert.Null(Find<V1Pod>("leftover")));

        Write(new DeleteObject(new ResourceKey(ResourceOf(typeof(V1Job)), "default", "report"), PropagationPolicy: "Foreground"));
        Write(new DeleteObject(new ResourceKey(ResourceOf(typeof(V2HorizontalPodAutoscaler)), "default", "web"), PropagationPolicy: "Foreground"));

        AwaitAssert(() => Assert.Empty(All<V1Job>()));
        Assert.Empty(All<V1Pod>());
        AwaitAssert(() => Assert.Empty(All<V2HorizontalPodAutoscaler>()));
        Assert.NotNull(hpa);
    }

    [Fact]
    public void Deleting_a_cronjob_in_the_background_removes_its_jobs_and_their_pods()
    {
        var cron = Seed(new V1CronJob
        {
            ApiVersion = "batch/v1",
            Kind = "CronJob",
            Metadata = new V1ObjectMeta { Name = "nightly", NamespaceProperty = "default" },
            Spec = new V1CronJobSpec
            {
                Schedule = "0 3 * * *",
                JobTemplate = new V1JobTemplateSpec { Spec = new V1JobSpec { Template = WithRestartPolicy(Template(App("nightly")), "Never") } },
            },
        });
        var job = Seed(new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                Name = "nightly-1", NamespaceProperty = "default", OwnerReferences = [RefTo("CronJob", "batch/v1", "nightly", cron.Metadata.Uid)],
            },
            Spec = new V1JobSpec { Template = WithRestartPolicy(Template(App("nightly")), "Never") },
        });
        Seed(Pod("nightly-1-x", App("nightly"), owner: RefTo("Job", "batch/v1", "nightly-1", job.Metadata.Uid)));
        Sys.ActorOf(GarbageCollector.Props(Store, Resync, Catalog));

        Write(new DeleteObject(new ResourceKey(ResourceOf(typeof(V1CronJob)), "default", "nightly")));

        AwaitAssert(() => Assert.Empty(All<V1Job>()));
        AwaitAssert(() => Assert.Empty(All<V1Pod>()));
    }

    private static V1PodTemplateSpec WithRestartPolicy(V1PodTemplateSpec template, string policy)
    {
        template.Spec.RestartPolicy = policy;
        return template;
    }

    private static V1ReplicaSet WithOwner(V1ReplicaSet rs, V1OwnerReference owner)
    {
        rs.Metadata.OwnerReferences = [owner];
        return rs;
    }
}
