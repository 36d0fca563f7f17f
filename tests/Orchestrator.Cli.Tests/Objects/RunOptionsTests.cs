using Orchestrator.Cli.Objects;
using Orchestrator.Cli.Parsing;
using Xunit;

namespace Orchestrator.Cli.Tests.Objects;

public sealed class RunOptionsTests
{
    private static RunOptions From(params string[] args) => RunOptions.From(ParsedArgs.Parse(CommandTable.Find("run")!, args));

    [Fact]
    public void Run_builds_the_pre_1_18_deployment_labelled_run_name()
    {
        var d = From("http", "--image=katacoda/docker-http-server:latest", "--replicas=1").ToDeployment();
        Assert.Equal("apps/v1", d.ApiVersion);
        Assert.Equal("Deployment", d.Kind);
        Assert.Equal("http", d.Metadata.Name);
        Assert.Equal("http", d.Metadata.Labels["run"]);
        Assert.Equal("http", d.Spec.Selector.MatchLabels["run"]);
        Assert.Equal("http", d.Spec.Template.Metadata.Labels["run"]);
        Assert.Equal(1, d.Spec.Replicas);
        var c = Assert.Single(d.Spec.Template.Spec.Containers);
        Assert.Equal("http", c.Name);
        Assert.Equal("katacoda/docker-http-server:latest", c.Image);
        Assert.Null(c.Ports);
    }

    [Fact]
    public void Port_and_hostport_become_the_containers_port()
    {
        var d = From("httpexposed", "--image=img", "--replicas=1", "--port=80", "--hostport=8001").ToDeployment();
        var port = Assert.Single(d.Spec.Template.Spec.Containers[0].Ports);
        Assert.Equal(80, port.ContainerPort);
        Assert.Equal(8001, port.HostPort);
    }

    [Fact]
    public void Labels_env_and_arguments_are_carried_over()
    {
        var d = From("w", "--image=i", "--labels=app=web,tier=front", "--env=A=1", "--env=B=x=y", "--", "serve", "--fast").ToDeployment();
        Assert.Equal(new Dictionary<string, string> { ["app"] = "web", ["tier"] = "front" }, d.Spec.Selector.MatchLabels);
        Assert.False(d.Metadata.Labels.ContainsKey("run"));
        var c = d.Spec.Template.Spec.Containers[0];
        Assert.Equal(["A", "B"], c.Env.Select(e => e.Name));
        Assert.Equal("x=y", c.Env[1].Value);
        Assert.Equal(["serve", "--fast"], c.Args);
        Assert.Null(c.Command);
    }

    [Fact]
    public void With_command_the_arguments_replace_the_images_command()
    {
        var c = From("s", "--image=busybox", "--command", "--", "sleep", "60").ToDeployment().Spec.Template.Spec.Containers[0];
        Assert.Equal(["sleep", "60"], c.Command);
        Assert.Null(c.Args);
    }

    [Fact]
    public void The_image_is_required()
    {
        var e = Assert.Throws<UsageException>(() => From("http", "--replicas=1"));
        Assert.Contains("--image is required", e.Message);
    }

    [Fact]
    public void A_hostport_without_a_port_is_refused() =>
        Assert.Throws<UsageException>(() => From("h", "--image=i", "--hostport=8001"));
}
