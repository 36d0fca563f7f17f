using k8s.Models;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Tests.Runtime;

public sealed class PodVolumesTests
{
    private static V1Pod Pod() => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", Uid = "uid-1" },
        Spec = new V1PodSpec
        {
            Volumes =
            [
                new V1Volume { Name = "scratch", EmptyDir = new V1EmptyDirVolumeSource() },
                new V1Volume { Name = "ram", EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory", SizeLimit = new ResourceQuantity("1Mi") } },
                new V1Volume { Name = "host", HostPath = new V1HostPathVolumeSource { Path = "/var/log" } },
                new V1Volume { Name = "cm", ConfigMap = new V1ConfigMapVolumeSource { Name = "x" } },
            ],
            Containers = [],
        },
    };

    private static readonly V1Container Container = new()
    {
        Name = "app",
        VolumeMounts =
        [
            new V1VolumeMount { Name = "scratch", MountPath = "/scratch" },
            new V1VolumeMount { Name = "ram", MountPath = "/ram" },
            new V1VolumeMount { Name = "host", MountPath = "/logs", ReadOnlyProperty = true },
            new V1VolumeMount { Name = "cm", MountPath = "/config" },
        ],
    };

    [Fact]
    public void EmptyDir_is_a_per_pod_docker_volume_and_hostPath_a_bind()
    {
        Assert.Equal(["orch-uid-1-scratch:/scratch", "/var/log:/logs:ro"], PodVolumes.Binds(Pod(), Container));
        Assert.Equal(["scratch"], PodVolumes.EmptyDirsUsedBy(Pod(), Container).Select(v => v.Name));
    }

    [Fact]
    public void A_memory_emptyDir_is_a_tmpfs_with_its_size_limit()
    {
        var tmpfs = PodVolumes.MemoryEmptyDirs(Pod(), Container)!;
        Assert.Equal("size=1048576", tmpfs["/ram"]);
    }
}
