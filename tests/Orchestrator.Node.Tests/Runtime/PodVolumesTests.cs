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
        // an emptyDir starts empty: no copy of the image's files into it; a configMap volume is its directory, read-only
        var projected = new Dictionary<string, string> { ["cm"] = "/volumes/orch-uid-1-cm/_data" };
        Assert.Equal(["orch-uid-1-scratch:/scratch:nocopy", "/var/log:/logs:ro", "/volumes/orch-uid-1-cm/_data:/config:ro"],
            PodVolumes.Binds(Pod(), Container, projected));
        Assert.Equal(["cm"], PodVolumes.ProjectedUsedBy(Pod(), Container).Select(v => v.Name));
        Assert.Equal(["scratch"], PodVolumes.EmptyDirsUsedBy(Pod(), Container).Select(v => v.Name));
    }

    [Fact]
    public void A_memory_emptyDir_is_a_tmpfs_with_its_size_limit()
    {
        var tmpfs = PodVolumes.MemoryEmptyDirs(Pod(), Container)!;
        Assert.Equal("size=1048576", tmpfs["/ram"]);
    }

    [Fact]
    public void Read_only_and_propagation_are_mount_options()
    {
        var pod = Pod();
        var container = new V1Container
        {
            Name = "app",
            VolumeMounts =
            [
                new V1VolumeMount { Name = "scratch", MountPath = "/scratch", ReadOnlyProperty = true },
                new V1VolumeMount { Name = "host", MountPath = "/in", MountPropagation = "HostToContainer" },
                new V1VolumeMount { Name = "host", MountPath = "/both", MountPropagation = "Bidirectional", ReadOnlyProperty = true },
                new V1VolumeMount { Name = "ram", MountPath = "/ram", ReadOnlyProperty = true },
            ],
        };
        Assert.Equal(["orch-uid-1-scratch:/scratch:ro,nocopy", "/var/log:/in:rslave", "/var/log:/both:ro,rshared"], PodVolumes.Binds(pod, container));
        Assert.Equal("size=1048576,ro", PodVolumes.MemoryEmptyDirs(pod, container)!["/ram"]);
    }

    [Fact]
    public void Recursive_read_only_fails_the_container_as_on_a_runtime_without_it_and_IfPossible_is_plain_read_only()
    {
        var enabled = new V1Container { Name = "app", VolumeMounts = [new V1VolumeMount { Name = "host", MountPath = "/l", ReadOnlyProperty = true, RecursiveReadOnly = "Enabled" }] };
        var possible = new V1Container { Name = "app", VolumeMounts = [new V1VolumeMount { Name = "host", MountPath = "/l", ReadOnlyProperty = true, RecursiveReadOnly = "IfPossible" }] };

        Assert.Contains("requested recursive read-only mode, but it is not supported by the runtime",
            Assert.Throws<ContainerConfigException>(() => PodVolumes.Binds(Pod(), enabled)).Message);
        Assert.Equal(["/var/log:/l:ro"], PodVolumes.Binds(Pod(), possible));
    }

    [Fact]
    public void A_subPathExpr_expands_the_containers_variables_and_needs_all_of_them()
    {
        var root = Directory.CreateTempSubdirectory("subpathexpr-").FullName;
        try
        {
            var pod = Pod();
            pod.Spec.Volumes[2].HostPath.Path = root;
            var container = new V1Container { Name = "app", VolumeMounts = [new V1VolumeMount { Name = "host", MountPath = "/l", SubPathExpr = "logs/$(POD_NAME)" }] };

            var bind = Assert.Single(PodVolumes.Binds(pod, container, environment: new Dictionary<string, string> { ["POD_NAME"] = "web-1" })!);
            Assert.Equal($"{Orchestrator.Node.Host.HostFiles.Resolve(root)}/logs/web-1:/l", bind);
            Assert.Equal("missing value for POD_NAME", Assert.Throws<ContainerConfigException>(() => PodVolumes.Binds(pod, container)).Message);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void An_emptyDir_is_writable_by_every_user_and_with_an_fsGroup_owned_by_it()
    {
        var dir = Directory.CreateTempSubdirectory("emptydir-").FullName;
        try
        {
            EmptyDirs.SetUp("data", dir, fsGroup: null, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            Assert.Equal(0x1FF, Orchestrator.Node.Host.HostFiles.PermissionsOf(dir));
            EmptyDirs.SetUp("data", dir, fsGroup: 2000, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            Assert.Equal(0x1FF | (int)UnixFileMode.SetGroup, Orchestrator.Node.Host.HostFiles.PermissionsOf(dir));
            var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%g", dir]) { RedirectStandardOutput = true })!;
            Assert.Equal("2000", stat.StandardOutput.ReadToEnd().Trim());
        }
        finally { Directory.Delete(dir, true); }
    }
}
