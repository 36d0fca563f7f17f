using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

public class ObjectStoreSpec() : StoreSpecBase(new ObjectStoreSettings(SnapshotEvery: 1000, WatchWindow: 50))
{
    [Fact]
    public void Create_fills_server_fields_and_takes_the_next_resource_version()
    {
        Store.Tell(new ListObjects("deployments"));
        var before = ExpectMsg<ObjectsListed>().ResourceVersion;

        var stored = (V1Deployment)Stored(new CreateObject("deployments", Objects.Deployment("web")));

        Assert.Equal((before + 1).ToString(), stored.Metadata.ResourceVersion);
        Assert.True(Guid.TryParse(stored.Metadata.Uid, out _));
        Assert.Equal(1, stored.Metadata.Generation);
        Assert.NotNull(stored.Metadata.CreationTimestamp);
        Assert.Equal(0, stored.Metadata.CreationTimestamp!.Value.Millisecond);
    }

    [Fact]
    public void A_write_records_its_field_manager_and_the_control_planes_writers_are_named_by_their_actor()
    {
        var stored = (V1Deployment)Stored(new CreateObject("deployments", Objects.Deployment("web"), Manager: new FieldManager("kubectl-create")));
        Assert.Equal("kubectl-create", Assert.Single(stored.Metadata.ManagedFields).Manager);

        Assert.Equal("kube-scheduler", ControlPlaneManagers.Of(Sys.ActorOf(Props.Empty, "scheduler"))!.Name);
        Assert.Equal("kubelet", ControlPlaneManagers.Of(Sys.ActorOf(Props.Empty, Orchestrator.Shared.Protocol.NodeProtocolNames.GatewayActorName))!.Name);
        Assert.Equal("kube-controller-manager", ControlPlaneManagers.Of(Sys.ActorOf(Props.Empty, "job-controller"))!.Name);
        Assert.Null(ControlPlaneManagers.Of(TestActor));
    }

    [Fact]
    public void A_batch_is_stored_as_one_write_with_consecutive_versions_and_answers_each_request()
    {
        Stored(new CreateObject("deployments", Objects.Deployment("existing")));
        Store.Tell(new ListObjects("deployments"));
        var before = ExpectMsg<ObjectsListed>().ResourceVersion;
        var renamed = Objects.Deployment("existing");
        renamed.Metadata.Labels = new Dictionary<string, string> { ["touched"] = "yes" };

        Store.Tell(new WriteObjects([
            new CreateObject("deployments", Objects.Deployment("a")),
            new CreateObject("deployments", Objects.Deployment("existing")), // refused on its own
            new UpdateObject("deployments", renamed),
            new CreateObject("deployments", Objects.Deployment("a")), // twice in one batch
            new CreateObject("deployments", Objects.Deployment("b")),
        ]));
        var replies = ExpectMsg<ObjectsWritten>().Replies;

        Assert.Equal(5, replies.Count);
        Assert.Equal(
            [(before + 1).ToString(), "409 AlreadyExists", (before + 2).ToString(), "409 Conflict", (before + 3).ToString()],
            replies.Select(r => r switch
            {
                ObjectStored stored => stored.Object.Metadata.ResourceVersion,
                StoreFailed failed => $"{failed.Error.Code} {failed.Error.Reason}",
                _ => "?",
            }));
        Assert.Equal("yes", ((V1Deployment)Stored(new GetObject(new ResourceKey("deployments", "default", "existing")))).Metadata.Labels["touched"]);
        Store.Tell(new ListObjects("deployments"));
        var listed = ExpectMsg<ObjectsListed>();
        Assert.Equal(before + 3, listed.ResourceVersion);
        Assert.Equal(["a", "b", "existing"], listed.Items.Select(d => d.Metadata.Name).Order());
    }

    [Fact]
    public void Seeds_default_namespaces_and_the_kubernetes_service()
    {
        Store.Tell(new ListObjects("namespaces"));
        var names = ExpectMsg<ObjectsListed>().Items.Select(n => n.Metadata.Name).ToList();
        Assert.Equal(["default", "kube-node-lease", "kube-public", "kube-system"], names);

        var svc = (V1Service)Stored(new GetObject(new ResourceKey("services", "default", "kubernetes")));
        Assert.Equal("172.28.128.1", svc.Spec.ClusterIP);
        Assert.Equal(443, svc.Spec.Ports.Single().Port);
    }

    [Fact]
    public void Creating_an_existing_name_fails_with_AlreadyExists()
    {
        Stored(new CreateObject("deployments", Objects.Deployment("web")));
        var error = Failed(new CreateObject("deployments", Objects.Deployment("web")));
        Assert.Equal(409, error.Code);
        Assert.Equal("AlreadyExists", error.Reason);
        Assert.Equal("deployments.apps \"web\" already exists", error.Message);
    }

    [Fact]
    public void Creating_in_a_missing_namespace_fails_with_NotFound()
    {
        var error = Failed(new CreateObject("pods", Objects.Pod("p", "nowhere")));
        Assert.Equal(404, error.Code);
        Assert.Equal("namespaces \"nowhere\" not found", error.Message);
    }

    [Fact]
    public void Getting_a_missing_object_fails_with_NotFound()
    {
        var error = Failed(new GetObject(new ResourceKey("deployments", "default", "nope")));
        Assert.Equal(404, error.Code);
        Assert.Equal("deployments.apps \"nope\" not found", error.Message);
    }

    [Fact]
    public void Update_with_a_stale_resource_version_fails_with_Conflict()
    {
        var created = (V1Deployment)Stored(new CreateObject("deployments", Objects.Deployment("web")));
        var first = KubeObjects.Clone(created);
        first.Spec.Replicas = 2;
        Stored(new UpdateObject("deployments", first));

        var stale = KubeObjects.Clone(created);
        stale.Spec.Replicas = 3;
        var error = Failed(new UpdateObject("deployments", stale));
        Assert.Equal(409, error.Code);
        Assert.Equal("Conflict", error.Reason);
        Assert.Equal("Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; " +
                     "please apply your changes to the latest version and try again", error.Message);
    }

    [Fact]
    public void Spec_change_bumps_generation_and_keeps_server_fields()
    {
        var created = (V1Deployment)Stored(new CreateObject("deployments", Objects.Deployment("web")));
        var change = KubeObjects.Clone(created);
        change.Spec.Replicas = 3;
        change.Metadata.Uid = null;
        change.Metadata.CreationTimestamp = null;

        var updated = (V1Deployment)Stored(new UpdateObject("deployments", change));
        Assert.Equal(2, updated.Metadata.Generation);
        Assert.Equal(created.Metadata.Uid, updated.Metadata.Uid);
        Assert.Equal(created.Metadata.CreationTimestamp, updated.Metadata.CreationTimestamp);
        Assert.Equal(Rv(created) + 1, Rv(updated));
    }

    [Fact]
    public void Status_update_changes_only_status_and_a_main_update_keeps_status()
    {
        var created = (V1Deployment)Stored(new CreateObject("deployments", Objects.Deployment("web")));
        var withStatus = KubeObjects.Clone(created);
        withStatus.Status = new V1DeploymentStatus { Replicas = 1, ReadyReplicas = 1 };
        withStatus.Spec.Replicas = 9; // ignored by a status update
        var afterStatus = (V1Deployment)Stored(new UpdateObject("deployments", withStatus, "status"));
        Assert.Equal(1, afterStatus.Status.ReadyReplicas);
        Assert.Equal(1, afterStatus.Spec.Replicas);
        Assert.Equal(1, afterStatus.Metadata.Generation);

        var specOnly = KubeObjects.Clone(afterStatus);
        specOnly.Status = null;
        specOnly.Spec.Replicas = 2;
        var afterSpec = (V1Deployment)Stored(new UpdateObject("deployments", specOnly));
        Assert.Equal(1, afterSpec.Status.ReadyReplicas);
        Assert.Equal(2, afterSpec.Spec.Replicas);
    }

    [Fact]
    public void Pods_services_and_namespaces_carry_no_generation_as_in_kubernetes_1_32()
    {
        // kube-apiserver 1.32's pod, service and namespace strategies set no metadata.generation (pods gain one in 1.33)
        var pod = (V1Pod)Stored(new CreateObject("pods", Objects.Pod("p")));
        Assert.Null(pod.Metadata.Generation);
        var changed = KubeObjects.Clone(pod);
        changed.Spec.ActiveDeadlineSeconds = 30;
        Assert.Null(((V1Pod)Stored(new UpdateObject("pods", changed))).Metadata.Generation);

        Assert.Null(((V1Service)Stored(new CreateObject("services", Objects.Service("s")))).Metadata.Generation);
        Assert.Null(((V1Namespace)Stored(new CreateObject("namespaces", Objects.Namespace("n")))).Metadata.Generation);
        Assert.Equal(1, ((V1Deployment)Stored(new CreateObject("deployments", Objects.Deployment("d")))).Metadata.Generation);
    }

    [Fact]
    public void An_update_that_changes_nothing_writes_nothing()
    {
        var created = (V1ConfigMap)Stored(new CreateObject("configmaps", Objects.ConfigMap("c")));
        var same = (V1ConfigMap)Stored(new UpdateObject("configmaps", KubeObjects.Clone(created)));
        Assert.Equal(created.Metadata.ResourceVersion, same.Metadata.ResourceVersion);
    }

    [Fact]
    public void Dry_runStores_nothing()
    {
        Stored(new CreateObject("configmaps", Objects.ConfigMap("c"), DryRun: true));
        Failed(new GetObject(new ResourceKey("configmaps", "default", "c")));
    }

    [Fact]
    public void List_returns_one_namespace_sorted_by_name()
    {
        Stored(new CreateObject("namespaces", Objects.Namespace("other")));
        Stored(new CreateObject("configmaps", Objects.ConfigMap("b")));
        Stored(new CreateObject("configmaps", Objects.ConfigMap("a")));
        Stored(new CreateObject("configmaps", Objects.ConfigMap("z", "other")));

        Store.Tell(new ListObjects("configmaps", "default"));
        var listed = ExpectMsg<ObjectsListed>();
        Assert.Equal(["a", "b"], listed.Items.Select(i => i.Metadata.Name));
        Store.Tell(new ListObjects("configmaps"));
        Assert.Equal(3, ExpectMsg<ObjectsListed>().Items.Count);
    }

    [Fact]
    public void Generate_name_appends_five_random_characters()
    {
        var cm = Objects.ConfigMap("");
        cm.Metadata.Name = null;
        cm.Metadata.GenerateName = "web-";
        var stored = Stored(new CreateObject("configmaps", cm));
        Assert.Matches("^web-[a-z0-9]{5}$", stored.Metadata.Name);
    }

    [Fact]
    public void Watch_sends_added_modified_and_deleted_of_its_resource_and_namespace()
    {
        var watcher = CreateTestProbe();
        Store.Tell(new WatchObjects("configmaps", "default", null, watcher));
        ExpectMsg<WatchStarted>();

        var created = (V1ConfigMap)Stored(new CreateObject("configmaps", Objects.ConfigMap("c")));
        Stored(new CreateObject("pods", Objects.Pod("ignored")));
        var changed = KubeObjects.Clone(created);
        changed.Data["k"] = "w";
        Stored(new UpdateObject("configmaps", changed));
        var deleted = Stored(new DeleteObject(new ResourceKey("configmaps", "default", "c")));

        Assert.Equal("ADDED", watcher.ExpectMsg<ObjectChanged>().Type);
        Assert.Equal("MODIFIED", watcher.ExpectMsg<ObjectChanged>().Type);
        var gone = watcher.ExpectMsg<ObjectChanged>();
        Assert.Equal("DELETED", gone.Type);
        Assert.Equal(Rv(deleted), gone.ResourceVersion);
        Assert.Equal(gone.ResourceVersion, Rv(gone.Object));
        watcher.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Watch_from_a_resource_version_replays_the_later_changes_after_the_reply()
    {
        var first = Stored(new CreateObject("configmaps", Objects.ConfigMap("a")));
        Stored(new CreateObject("configmaps", Objects.ConfigMap("b")));
        Stored(new CreateObject("configmaps", Objects.ConfigMap("c")));

        Store.Tell(new WatchObjects("configmaps", null, Rv(first), TestActor));
        ExpectMsg<WatchStarted>();
        Assert.Equal("b", ExpectMsg<ObjectChanged>().Object.Metadata.Name);
        Assert.Equal("c", ExpectMsg<ObjectChanged>().Object.Metadata.Name);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Watch_from_a_version_older_than_the_window_fails_with_Expired()
    {
        for (var i = 0; i < 60; i++) Stored(new CreateObject("configmaps", Objects.ConfigMap($"c{i}")));
        var error = Failed(new WatchObjects("configmaps", null, 2, TestActor));
        Assert.Equal(410, error.Code);
        Assert.Equal("Expired", error.Reason);
        Assert.StartsWith("too old resource version: 2 (", error.Message);
    }

    [Fact]
    public void Unwatch_stops_the_changes()
    {
        var watcher = CreateTestProbe();
        Store.Tell(new WatchObjects("*", null, null, watcher));
        ExpectMsg<WatchStarted>();
        Store.Tell(new Unwatch(watcher));
        Stored(new CreateObject("configmaps", Objects.ConfigMap("c")));
        watcher.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }
}
