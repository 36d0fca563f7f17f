using Orchestrator.Node.Host;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Tests.Runtime;

/// <summary>subPath as the kubelet prepares it, on a real directory tree: nothing outside the volume is ever bound.</summary>
public sealed class SubPathsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("subpaths-").FullName;
    private readonly string _volume;
    private readonly string _outside;

    public SubPathsTests()
    {
        _volume = Directory.CreateDirectory(Path.Combine(_root, "volume")).FullName;
        _outside = Directory.CreateDirectory(Path.Combine(_root, "secret")).FullName;
        File.WriteAllText(Path.Combine(_outside, "passwd"), "root");
    }

    public void Dispose() => Directory.Delete(_root, true);

    private string Prepare(string subPath) => SubPaths.Prepare(_volume, subPath, "data", "app");

    [Theory]
    [InlineData("/etc", "error SubPath `/etc` must not be an absolute path")]
    [InlineData("../secret", "unable to provision SubPath `../secret`: must not contain '..'")]
    [InlineData("a/../../secret", "unable to provision SubPath `a/../../secret`: must not contain '..'")]
    public void Absolute_paths_and_backsteps_are_refused_with_the_kubelets_messages(string subPath, string message) =>
        Assert.Equal(message, Assert.Throws<ContainerConfigException>(() => Prepare(subPath)).Message);

    [Fact]
    public void A_symlink_out_of_the_volume_is_refused_without_naming_host_paths()
    {
        File.CreateSymbolicLink(Path.Combine(_volume, "escape"), _outside);
        File.CreateSymbolicLink(Path.Combine(_volume, "passwd"), Path.Combine(_outside, "passwd"));

        Assert.Equal("failed to prepare subPath for volumeMount \"data\" of container \"app\"", Assert.Throws<ContainerConfigException>(() => Prepare("escape")).Message);
        Assert.Equal("failed to prepare subPath for volumeMount \"data\" of container \"app\"", Assert.Throws<ContainerConfigException>(() => Prepare("passwd")).Message);
        // a missing directory below an escaping link is not created outside
        Assert.Equal("failed to create subPath directory for volumeMount \"data\" of container \"app\"",
            Assert.Throws<ContainerConfigException>(() => Prepare("escape/new")).Message);
        Assert.False(Directory.Exists(Path.Combine(_outside, "new")));
    }

    [Fact]
    public void A_dangling_link_is_not_created_through()
    {
        File.CreateSymbolicLink(Path.Combine(_volume, "dangling"), Path.Combine(_outside, "later"));

        Assert.Throws<ContainerConfigException>(() => Prepare("dangling/x"));
        Assert.False(Directory.Exists(Path.Combine(_outside, "later")));
    }

    [Fact]
    public void A_link_inside_the_volume_resolves_to_its_target_which_is_what_docker_binds()
    {
        Directory.CreateDirectory(Path.Combine(_volume, "real"));
        File.CreateSymbolicLink(Path.Combine(_volume, "alias"), "real");

        Assert.Equal(Path.Combine(HostFiles.Resolve(_volume)!, "real"), Prepare("alias"));
    }

    [Fact]
    public void A_missing_subPath_is_created_inside_the_volume_with_its_mode()
    {
        HostFiles.SetMode(_volume, (UnixFileMode)0x1FF); // 0777, an emptyDir's

        var prepared = Prepare("logs/./app");

        Assert.Equal(Path.Combine(HostFiles.Resolve(_volume)!, "logs", "app"), prepared);
        Assert.True(Directory.Exists(prepared));
    }
}
