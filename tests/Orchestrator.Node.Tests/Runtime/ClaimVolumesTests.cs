using k8s.Models;
using Orchestrator.Node.Config;
using Orchestrator.Node.Runtime;
using Orchestrator.Shared.Protocol;
using Xunit;

namespace Orchestrator.Node.Tests.Runtime;

public sealed class ClaimVolumesTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "claims-" + Guid.NewGuid().ToString("N")[..8], "volumes");

    public void Dispose()
    {
        if (Directory.Exists(Path.GetDirectoryName(_root)!)) Directory.Delete(Path.GetDirectoryName(_root)!, recursive: true);
    }

    private static V1Pod Pod(bool readOnly = false) => new()
    {
        Metadata = new V1ObjectMeta { Name = "db", NamespaceProperty = "default", Uid = "pod-uid" },
        Spec = new V1PodSpec
        {
            Containers = [new V1Container { Name = "c", Image = "i", VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data" }] }],
            Volumes = [new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = "data", ReadOnlyProperty = readOnly } }],
        },
    };

    private static V1PersistentVolumeClaim Claim(string? volume) => new()
    {
        Metadata = new V1ObjectMeta { Name = "data", NamespaceProperty = "default", Uid = "claim-uid" },
        Spec = new V1PersistentVolumeClaimSpec { VolumeName = volume },
    };

    private V1PersistentVolume LocalPathVolume() => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "pvc-claim-uid", Uid = "pv-uid",
            Annotations = new Dictionary<string, string> { ["pv.kubernetes.io/provisioned-by"] = "rancher.io/local-path" },
        },
        Spec = new V1PersistentVolumeSpec
        {
            HostPath = new V1HostPathVolumeSource { Path = Path.Combine(_root, "pvc-claim-uid_default_data"), Type = "DirectoryOrCreate" },
            ClaimRef = new V1ObjectReference { Name = "data", NamespaceProperty = "default", Uid = "claim-uid" },
        },
    };

    private static ConfigDirectory Configs(V1PersistentVolumeClaim? claim, V1PersistentVolume? volume)
    {
        var configs = new ConfigDirectory();
        configs.Publish(new PodConfigChanged("n", 1, [], [], claim is null ? [] : [claim], volume is null ? [] : [volume]));
        return configs;
    }

    [Fact]
    public void A_bound_local_path_claim_becomes_a_hostPath_of_its_directory_made_on_first_use()
    {
        var pv = LocalPathVolume();
        var resolved = ClaimVolumes.Resolve(Pod(), Configs(Claim(pv.Metadata.Name), pv), _root);
        var volume = Assert.Single(resolved.Spec.Volumes);
        Assert.Equal((pv.Spec.HostPath.Path, "DirectoryOrCreate"), (volume.HostPath.Path, volume.HostPath.Type));
        Assert.True(Directory.Exists(pv.Spec.HostPath.Path));
        Assert.Equal((UnixFileMode)0x1FF, File.GetUnixFileMode(pv.Spec.HostPath.Path));
        Assert.NotNull(Pod().Spec.Volumes[0].PersistentVolumeClaim); // the pod given is not changed
    }

    [Fact]
    public void A_read_only_claim_makes_its_mounts_read_only()
    {
        var pv = LocalPathVolume();
        var resolved = ClaimVolumes.Resolve(Pod(readOnly: true), Configs(Claim(pv.Metadata.Name), pv), _root);
        Assert.True(resolved.Spec.Containers[0].VolumeMounts[0].ReadOnlyProperty);
    }

    [Fact]
    public void A_missing_or_unbound_claim_fails_the_mount_with_the_kubelets_message()
    {
        var missing = Assert.Throws<VolumeSetupException>(() => ClaimVolumes.Resolve(Pod(), Configs(null, null), _root));
        Assert.Equal("MountVolume.SetUp failed for volume \"data\" : persistentvolumeclaim \"data\" not found", missing.Message);
        var unbound = Assert.Throws<VolumeSetupException>(() => ClaimVolumes.Resolve(Pod(), Configs(Claim(null), null), _root));
        Assert.Contains("error processing PVC default/data: PVC is not bound", unbound.Message);
    }

    [Fact]
    public void Only_a_local_path_directory_of_this_node_is_deleted()
    {
        var pv = LocalPathVolume();
        Directory.CreateDirectory(pv.Spec.HostPath.Path);
        File.WriteAllText(Path.Combine(pv.Spec.HostPath.Path, "f"), "x");
        var elsewhere = LocalPathVolume();
        elsewhere.Spec.HostPath.Path = "/etc";
        Assert.NotNull(ClaimVolumes.DeleteLocalPath(elsewhere, _root));
        Assert.True(Directory.Exists("/etc"));
        Assert.Null(ClaimVolumes.DeleteLocalPath(pv, _root));
        Assert.False(Directory.Exists(pv.Spec.HostPath.Path));
        Assert.Null(ClaimVolumes.DeleteLocalPath(pv, _root)); // gone already: fine
    }
}
