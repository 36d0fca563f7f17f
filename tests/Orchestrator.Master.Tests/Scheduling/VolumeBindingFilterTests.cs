using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Scheduling.Filters;
using Orchestrator.Master.Scheduling.Framework;
using Orchestrator.Master.Tests.Controllers;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Scheduling;

public sealed class VolumeBindingFilterTests
{
    private sealed class Volumes(IEnumerable<V1PersistentVolumeClaim> claims, IEnumerable<V1PersistentVolume> volumes, params V1StorageClass[] classes)
        : IVolumeLookup
    {
        public V1PersistentVolumeClaim? Claim(string? ns, string name) => claims.FirstOrDefault(c => c.Metadata.Name == name);
        public V1PersistentVolume? Volume(string name) => volumes.FirstOrDefault(v => v.Metadata.Name == name);
        public V1StorageClass? Class(string name) => classes.FirstOrDefault(c => c.Metadata.Name == name);
        IEnumerable<V1PersistentVolume> IVolumeLookup.Volumes() => volumes;
    }

    private static readonly V1StorageClass LocalPath = LocalPathProvisioner.DefaultClass(markDefault: true);

    private static readonly V1StorageClass Immediate = new()
    {
        Metadata = new V1ObjectMeta { Name = "now" }, Provisioner = "example.com/disk", VolumeBindingMode = "Immediate",
    };

    private static V1PersistentVolumeClaim Claim(string storageClass, string? volume = null, string? selectedNode = null)
    {
        var claim = PersistentStorageTests.Claim("data", storageClass: storageClass);
        claim.Metadata.Uid = "claim-uid";
        claim.Spec.VolumeName = volume;
        if (selectedNode is not null) claim.Metadata.Annotations = new Dictionary<string, string> { [VolumeFacts.SelectedNode] = selectedNode };
        return claim;
    }

    private static V1PersistentVolume VolumeOn(string name, string node, string storageClass = "local-path")
    {
        var pv = LocalPathProvisioner.VolumeFor(Claim(storageClass), LocalPath, node, "/r");
        pv.Spec.StorageClassName = storageClass;
        return new V1PersistentVolume { Metadata = new V1ObjectMeta { Name = name }, Spec = pv.Spec, Status = new V1PersistentVolumeStatus { Phase = "Bound" } };
    }

    private static List<NodeInfo> Nodes(params V1Node[] nodes) => nodes.Select(n => new NodeInfo(n, [])).ToList();

    [Fact]
    public void A_missing_claim_fails_the_pod_on_every_node_at_once()
    {
        var result = SchedulingAlgorithm.Standard(new Volumes([], [])).Schedule(PersistentStorageTests.PodWithClaim("p", "data"),
            Nodes(PersistentStorageTests.StorageNode("a")));
        Assert.Equal("0/1 nodes are available: persistentvolumeclaim \"data\" not found.", result.FailureMessage);
    }

    [Fact]
    public void A_ReadWriteOncePod_claim_in_use_by_a_scheduled_pod_fits_no_node_until_that_pod_is_done()
    {
        var claim = Claim("local-path", volume: "pv-1");
        claim.Spec.AccessModes = ["ReadWriteOncePod"];
        var volumes = new Volumes([claim], [VolumeOn("pv-1", "a")], LocalPath);
        var holder = PersistentStorageTests.PodWithClaim("first", "data");
        holder.Metadata.Uid = "first-uid";
        var second = PersistentStorageTests.PodWithClaim("second", "data");
        second.Metadata.Uid = "second-uid";

        var refused = SchedulingAlgorithm.Standard(volumes).Schedule(second,
            [new NodeInfo(PersistentStorageTests.StorageNode("a"), [holder]), new NodeInfo(PersistentStorageTests.StorageNode("b"), [])]);
        Assert.Equal("0/2 nodes are available: 2 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode.",
            refused.FailureMessage);

        holder.Status = new V1PodStatus { Phase = "Succeeded" };
        Assert.Equal("a", SchedulingAlgorithm.Standard(volumes).Schedule(second,
            [new NodeInfo(PersistentStorageTests.StorageNode("a"), [holder]), new NodeInfo(PersistentStorageTests.StorageNode("b"), [])]).NodeName);
    }

    [Fact]
    public void An_unbound_immediate_claim_keeps_the_pod_pending()
    {
        var result = SchedulingAlgorithm.Standard(new Volumes([Claim("now")], [], Immediate))
            .Schedule(PersistentStorageTests.PodWithClaim("p", "data"), Nodes(PersistentStorageTests.StorageNode("a")));
        Assert.Equal("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.", result.FailureMessage);
    }

    [Fact]
    public void A_bound_volume_with_node_affinity_admits_only_its_node()
    {
        var volumes = new Volumes([Claim("local-path", volume: "pv-1")], [VolumeOn("pv-1", "b")], LocalPath);
        var result = SchedulingAlgorithm.Standard(volumes).Schedule(PersistentStorageTests.PodWithClaim("p", "data"),
            Nodes(PersistentStorageTests.StorageNode("a"), PersistentStorageTests.StorageNode("b"), PersistentStorageTests.StorageNode("c")));
        Assert.Equal("b", result.NodeName);

        var none = SchedulingAlgorithm.Standard(volumes).Schedule(PersistentStorageTests.PodWithClaim("p", "data"),
            Nodes(PersistentStorageTests.StorageNode("a")));
        Assert.Equal("0/1 nodes are available: 1 node(s) had volume node affinity conflict.", none.FailureMessage);
    }

    [Fact]
    public void An_unbound_local_path_claim_fits_only_nodes_that_can_make_the_directory()
    {
        var filter = new VolumeBindingFilter(new Volumes([Claim("local-path")], [], LocalPath));
        var pod = PersistentStorageTests.PodWithClaim("p", "data");
        Assert.Null(filter.PreFilter(pod));
        Assert.Equal(VolumeBindingFilter.BindConflict, filter.Filter(pod, new NodeInfo(PersistentStorageTests.StorageNode("a", withRoot: false), [])));
        Assert.Null(filter.Filter(pod, new NodeInfo(PersistentStorageTests.StorageNode("b"), [])));
        Assert.Single(filter.UnboundClaims(pod));
    }

    [Fact]
    public void A_claim_whose_node_is_selected_fits_that_node_only()
    {
        var filter = new VolumeBindingFilter(new Volumes([Claim("local-path", selectedNode: "b")], [], LocalPath));
        var pod = PersistentStorageTests.PodWithClaim("p", "data");
        Assert.Equal(VolumeBindingFilter.BindConflict, filter.Filter(pod, new NodeInfo(PersistentStorageTests.StorageNode("a"), [])));
        Assert.Null(filter.Filter(pod, new NodeInfo(PersistentStorageTests.StorageNode("b"), [])));
    }

    [Fact]
    public void A_free_static_volume_on_the_node_lets_a_waiting_claim_of_a_class_without_provisioner_fit()
    {
        var noProvisioner = new V1StorageClass
        {
            Metadata = new V1ObjectMeta { Name = "local-storage" }, Provisioner = "kubernetes.io/no-provisioner", VolumeBindingMode = "WaitForFirstConsumer",
        };
        var pv = VolumeOn("static", "b", "local-storage");
        pv.Spec.ClaimRef = null;
        pv.Status.Phase = "Available";
        var filter = new VolumeBindingFilter(new Volumes([Claim("local-storage")], [pv], noProvisioner));
        var pod = PersistentStorageTests.PodWithClaim("p", "data");
        Assert.Equal(VolumeBindingFilter.BindConflict, filter.Filter(pod, new NodeInfo(PersistentStorageTests.StorageNode("a"), [])));
        Assert.Null(filter.Filter(pod, new NodeInfo(PersistentStorageTests.StorageNode("b"), [])));
    }

    [Fact]
    public void The_binder_takes_for_a_selected_node_only_a_volume_that_node_reaches()
    {
        var onA = VolumeOn("on-a", "a", "local-storage");
        var onB = VolumeOn("on-b", "b", "local-storage");
        foreach (var pv in new[] { onA, onB }) { pv.Spec.ClaimRef = null; pv.Status.Phase = "Available"; }
        var claim = Claim("local-storage");
        Assert.Null(PersistentVolumeBinder.BestVolume([onA, onB], claim, waits: true, selected: null));
        Assert.Equal("on-b", PersistentVolumeBinder.BestVolume([onA, onB], claim, waits: true, PersistentStorageTests.StorageNode("b"))!.Metadata.Name);
        Assert.Equal("on-a", PersistentVolumeBinder.BestVolume([onA, onB], claim, waits: false, selected: null)!.Metadata.Name);
    }
}
