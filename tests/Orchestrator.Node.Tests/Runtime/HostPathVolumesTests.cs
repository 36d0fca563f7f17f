using System.Net.Sockets;
using k8s.Models;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Tests.Runtime;

/// <summary>hostPath types as the kubelet checks them, on this machine's file system.</summary>
public sealed class HostPathVolumesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("hostpath-").FullName;

    public void Dispose() => Directory.Delete(_root, true);

    private static string? Check(string path, string type) => HostPathVolumes.Check(path, type);

    [Fact]
    public void OrCreate_types_create_what_is_missing_and_check_what_is_there()
    {
        var dir = Path.Combine(_root, "a", "b");
        var file = Path.Combine(_root, "f");

        Assert.Null(Check(dir, "DirectoryOrCreate"));
        Assert.Null(Check(file, "FileOrCreate"));

        Assert.True(Directory.Exists(dir));
        Assert.True(File.Exists(file));
        Assert.Equal($"hostPath type check failed: {file} is not a directory, it's a File", Check(file, "DirectoryOrCreate"));
        Assert.Equal($"hostPath type check failed: {dir} is not a file, it's a Directory", Check(dir, "FileOrCreate"));
    }

    [Fact]
    public void Existing_types_must_exist_and_match()
    {
        var missing = Path.Combine(_root, "none");
        Assert.Equal($"hostPath {missing} doesn't exist", Check(missing, "Directory"));
        Assert.Null(Check(_root, "Directory"));
        Assert.Equal($"hostPath type check failed: {_root} is not a file, it's a Directory", Check(_root, "File"));
        Assert.Null(Check("/dev/null", "CharDevice"));
        Assert.Equal("hostPath type check failed: /dev/null is not a block device, it's a CharDevice", Check("/dev/null", "BlockDevice"));
        Assert.Equal($"hostPath type check failed: {_root} is not a socket file, it's a Directory", Check(_root, "Socket"));
        Assert.Null(Check(_root, "")); // no type: nothing checked
        Assert.False(File.Exists(missing));
    }

    [Fact]
    public void A_socket_is_a_socket()
    {
        var path = Path.Combine(_root, "s.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));

        Assert.Null(Check(path, "Socket"));
        Assert.Equal($"hostPath type check failed: {path} is not a file, it's a Socket", Check(path, "File"));
    }

    [Fact]
    public void A_volume_that_fails_is_named_as_the_kubelets_FailedMount_names_it()
    {
        var volume = new V1Volume { Name = "logs", HostPath = new V1HostPathVolumeSource { Path = Path.Combine(_root, "none"), Type = "Directory" } };
        var failed = Assert.Throws<VolumeSetupException>(() => HostPathVolumes.SetUp(volume));
        Assert.Equal($"MountVolume.SetUp failed for volume \"logs\" : hostPath {_root}/none doesn't exist", failed.Message);
        var backsteps = new V1Volume { Name = "up", HostPath = new V1HostPathVolumeSource { Path = "/var/../etc" } };
        Assert.Equal("MountVolume.SetUp failed for volume \"up\" : invalid HostPath `/var/../etc`: must not contain '..'",
            Assert.Throws<VolumeSetupException>(() => HostPathVolumes.SetUp(backsteps)).Message);
    }
}
