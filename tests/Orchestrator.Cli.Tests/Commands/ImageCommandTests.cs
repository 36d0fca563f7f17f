using Orchestrator.Cli.Commands;
using Orchestrator.Cli.Parsing;
using Xunit;

namespace Orchestrator.Cli.Tests.Commands;

public sealed class ImageCommandTests
{
    [Theory]
    [InlineData("myapp", "127.0.0.1:5000/myapp:latest")]
    [InlineData("myapp:v1", "127.0.0.1:5000/myapp:v1")]
    [InlineData("team/app:2", "127.0.0.1:5000/team/app:2")]
    [InlineData("docker.io/library/busybox:1.36", "127.0.0.1:5000/busybox:1.36")]
    [InlineData("ghcr.io/x/app", "127.0.0.1:5000/x/app:latest")]
    [InlineData("localhost:5000/app:v3", "127.0.0.1:5000/app:v3")]
    public void A_local_image_is_named_under_the_cluster_registry(string image, string target) =>
        Assert.Equal(target, ImageCommand.TargetName(image, "127.0.0.1:5000"));

    [Fact]
    public void A_digest_cannot_be_pushed() =>
        Assert.Throws<UsageException>(() => ImageCommand.TargetName("app@sha256:00", "127.0.0.1:5000"));

    [Theory]
    [InlineData("127.0.0.11", true)]
    [InlineData("::1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("10.9.9.9", false)]
    [InlineData("not-an-address", false)]
    public void Load_reaches_only_nodes_whose_address_is_this_machines(string address, bool local) =>
        Assert.Equal(local, ImageCommand.IsLocal(address, new HashSet<System.Net.IPAddress> { System.Net.IPAddress.Parse("10.1.2.3") }));

    [Fact]
    public async Task Load_of_an_image_missing_from_the_local_store_fails_before_the_cluster_is_asked()
    {
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(["image", "load", "orchestrator-test/no-such-image:never"], new StringWriter(), stderr, new StringReader(""), _ => null);
        Assert.Equal(1, code);
        Assert.Contains("image \"orchestrator-test/no-such-image:never\" is not in this machine's Docker store", stderr.ToString());
    }

    [Fact]
    public async Task An_unknown_image_command_is_a_usage_error()
    {
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(["image", "pull", "x"], new StringWriter(), stderr, new StringReader(""), _ => null);
        Assert.Equal(1, code);
        Assert.Equal("error: unknown image command \"pull\" (one of: push, load) (see 'orchctl image --help')", stderr.ToString().Trim());
    }
}
