using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers;

/// <summary>The storage control loops together: the default class, WaitForFirstConsumer through the scheduler, the
/// local-path provisioner, the binder, protection and reclaim.</summary>
public sealed class PersistentStorageTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    internal static V1PersistentVolumeClaim Claim(string name, string size = "1Gi", string? storageClass = null) => new()
    {
        ApiVersion = "v1", Kind = "PersistentVolumeClaim",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1PersistentVolumeClaimSpec
        {
            StorageClassName = storageClass, AccessModes = ["ReadWriteOnce"],
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(size) } },
        },
    };

    internal static V1Node StorageNode(string name, bool withRoot = true)
    {
        var node = Node(name, labels: new Dictionary<string, string> { ["kubernetes.io/hostname"] = name });
        if (withRoot) node.Metadata.Annotations = new Dictionary<string, string> { [VolumeFacts.LocalPathRoot] = $"/var/lib/orch/{name}/volumes" };
        return node;
    }

    internal static V1Pod PodWithClaim(string name, string claim)
    {
        var pod = Pod(name);
        pod.Spec.Volumes = [new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = claim } }];
        return pod;
    }

    private void StartStorage()
    {
        Sys.ActorOf(PersistentVolumeBinder.Props(Store, Resync));
        Sys.ActorOf(LocalPathProvisioner.Props(Store, Resync));
        Sys.ActorOf(StorageProtectionController.Props(Store, Resync));
    }

    [Fact]
    public void The_default_local_path_class_is_made_at_start()
    {
        StartStorage();
        AwaitAssert(() =>
        {
            var sc = Find<V1StorageClass>("local-path")!;
            Assert.Equal(("rancher.io/local-path", "WaitForFirstConsumer", "Delete", true),
                (sc.Provisioner, sc.VolumeBindingMode, sc.ReclaimPolicy, sc.AllowVolumeExpansion));
            Assert.Equal("true", sc.Metadata.Annotations["storageclass.kubernetes.io/is-default-class"]);
        });
    }

    [Fact]
    public void A_claim_of_the_default_class_is_provisioned_on_the_node_the_scheduler_picks_and_the_pod_follows()
    {
        Seed(StorageNode("node-a", withRoot: false));
        Seed(StorageNode("node-b"));
        StartStorage();
        AwaitAssert(() => Assert.NotNull(Find<V1StorageClass>("local-path")));
        var claim = Seed(Claim("data"));
        Assert.Equal("local-path", claim.Spec.StorageClassName); // DefaultStorageClass admission
        Assert.Contains("kubernetes.io/pvc-protection", claim.Metadata.Finalizers);
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "WaitForFirstConsumer" && e.InvolvedObject.Name == "data"));
        Assert.Empty(All<V1PersistentVolume>());

        Seed(PodWithClaim("db", "data"));
        Sys.ActorOf(Scheduler.Props(Store, Resync));
        AwaitAssert(() =>
        {
            var bound = Find<V1PersistentVolumeClaim>("data")!;
            Assert.Equal("node-b", bound.Metadata.Annotations[VolumeFacts.SelectedNode]);
            Assert.Equal(("Bound", $"pvc-{claim.Metadata.Uid}"), (bound.Status.Phase, bound.Spec.VolumeName));
            Assert.Equal("node-b", Find<V1Pod>("db")!.Spec.NodeName);
        }, TimeSpan.FromSeconds(15));
        var pv = Find<V1PersistentVolume>($"pvc-{claim.Metadata.Uid}")!;
        Assert.Equal($"/var/lib/orch/node-b/volumes/pvc-{claim.Metadata.Uid}_default_data", pv.Spec.HostPath.Path);
        Assert.Equal(("Delete", "local-path", "Bound"), (pv.Spec.PersistentVolumeReclaimPolicy, pv.Spec.StorageClassName, pv.Status.Phase));
        Assert.Equal("node-b", VolumeFacts.NodeOf(pv));
        Assert.Contains(VolumeFacts.ProvisionerFinalizer, pv.Metadata.Finalizers);
    }

    [Fact]
    public void A_claim_in_use_is_deleted_only_after_its_pod_and_its_volume_is_then_deleted_by_its_reclaim_policy()
    {
        Seed(StorageNode("node-a"));
        StartStorage();
        AwaitAssert(() => Assert.NotNull(Find<V1StorageClass>("local-path")));
        var claim = Seed(Claim("data"));
        Seed(PodWithClaim("db", "data"));
        Sys.ActorOf(Scheduler.Props(Store, Resync));
        AwaitAssert(() => Assert.Equal("node-a", Find<V1Pod>("db")!.Spec.NodeName), TimeSpan.FromSeconds(15));

        Write(new DeleteObject(new ResourceKey("persistentvolumeclaims", "default", "data")));
        AwaitAssert(() => Assert.NotNull(Find<V1PersistentVolumeClaim>("data")!.Metadata.DeletionTimestamp));
        // still used by a pod: it stays (give the protection controller a chance to get it wrong)
        Write(new DeleteObject(new ResourceKey("pods", "default", "db")));
        AwaitAssert(() => Assert.Null(Find<V1PersistentVolumeClaim>("data")));
        // reclaim Delete: the volume is being deleted, held by the provisioner's finalizer until the node removed the directory
        AwaitAssert(() =>
        {
            var pv = Find<V1PersistentVolume>($"pvc-{claim.Metadata.Uid}")!;
            Assert.NotNull(pv.Metadata.DeletionTimestamp);
            Assert.Equal([VolumeFacts.ProvisionerFinalizer], pv.Metadata.Finalizers);
        });
    }

    [Fact]
    public void A_claim_used_by_a_running_pod_keeps_its_protection_finalizer()
    {
        StartStorage();
        Seed(Claim("data", storageClass: "manual"));
        Seed(Pod("user", nodeName: "n", phase: "Running"));
        var pod = Find<V1Pod>("user")!;
        // the pod names the claim
        var withVolume = PodWithClaim("user2", "data");
        withVolume.Spec.NodeName = "n";
        Seed(withVolume);
        Write(new DeleteObject(new ResourceKey("persistentvolumeclaims", "default", "data")));
        AwaitAssert(() => Assert.NotNull(Find<V1PersistentVolumeClaim>("data")!.Metadata.DeletionTimestamp));
        Write(new DeleteObject(new ResourceKey("pods", "default", pod.Metadata.Name)));
        AwaitAssert(() => Assert.Null(Find<V1Pod>("user")));
        Assert.Contains("kubernetes.io/pvc-protection", Find<V1PersistentVolumeClaim>("data")!.Metadata.Finalizers);
        Write(new DeleteObject(new ResourceKey("pods", "default", "user2")));
        AwaitAssert(() => Assert.Null(Find<V1PersistentVolumeClaim>("data")));
    }

    [Fact]
    public void A_released_volume_with_reclaim_Retain_stays_Released()
    {
        StartStorage();
        var pv = new V1PersistentVolume
        {
            ApiVersion = "v1", Kind = "PersistentVolume", Metadata = new V1ObjectMeta { Name = "kept" },
            Spec = new V1PersistentVolumeSpec
            {
                StorageClassName = "manual", AccessModes = ["ReadWriteOnce"], PersistentVolumeReclaimPolicy = "Retain",
                Capacity = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") }, HostPath = new V1HostPathVolumeSource { Path = "/mnt/kept" },
            },
        };
        Seed(pv);
        Seed(Claim("data", storageClass: "manual"));
        AwaitAssert(() => Assert.Equal("Bound", Find<V1PersistentVolume>("kept")!.Status.Phase));
        Write(new DeleteObject(new ResourceKey("persistentvolumeclaims", "default", "data")));
        AwaitAssert(() => Assert.Equal("Released", Find<V1PersistentVolume>("kept")!.Status.Phase));
        Assert.Null(Find<V1PersistentVolume>("kept")!.Metadata.DeletionTimestamp);
    }

    [Fact]
    public void An_immediate_claim_of_the_provisioner_is_provisioned_at_once_and_grows_when_resized()
    {
        Seed(StorageNode("node-a"));
        Seed(new V1StorageClass
        {
            ApiVersion = "storage.k8s.io/v1", Kind = "StorageClass", Metadata = new V1ObjectMeta { Name = "now" },
            Provisioner = VolumeFacts.LocalPathProvisioner, VolumeBindingMode = "Immediate", AllowVolumeExpansion = true,
        });
        StartStorage();
        Seed(Claim("data", "1Gi", "now"));
        AwaitAssert(() => Assert.Equal("Bound", Find<V1PersistentVolumeClaim>("data")!.Status.Phase));
        var claim = Find<V1PersistentVolumeClaim>("data")!;
        claim.Spec.Resources.Requests["storage"] = new ResourceQuantity("2Gi");
        Write(new UpdateObject("persistentvolumeclaims", claim));
        AwaitAssert(() =>
        {
            Assert.Equal("2Gi", Find<V1PersistentVolume>(claim.Spec.VolumeName)!.Spec.Capacity["storage"].ToString());
            Assert.Equal("2Gi", Find<V1PersistentVolumeClaim>("data")!.Status.Capacity["storage"].ToString());
        }, TimeSpan.FromSeconds(30)); // two controllers' writes in turn; the default 10 s ran out once at CI load 30
    }
}
