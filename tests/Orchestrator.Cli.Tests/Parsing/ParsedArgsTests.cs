using Orchestrator.Cli.Parsing;
using Xunit;

namespace Orchestrator.Cli.Tests.Parsing;

public sealed class ParsedArgsTests
{
    private static ParsedArgs Parse(string command, params string[] args) => ParsedArgs.Parse(CommandTable.Find(command)!, args);

    [Fact]
    public void The_seeds_run_line_parses_with_equals_values()
    {
        var p = Parse("run", "httpexposed", "--image=katacoda/docker-http-server:latest", "--replicas=1", "--port=80", "--hostport=8001");
        Assert.Equal(["httpexposed"], p.Positionals);
        Assert.Equal("katacoda/docker-http-server:latest", p.Get("image"));
        Assert.Equal(1, p.GetInt("replicas"));
        Assert.Equal(80, p.GetInt("port"));
        Assert.Equal(8001, p.GetInt("hostport"));
    }

    [Fact]
    public void Values_may_follow_as_the_next_argument_and_short_flags_may_be_joined()
    {
        var p = Parse("get", "pods", "-o", "wide", "-lapp=web", "-n", "kube-system", "-A", "-w");
        Assert.Equal("wide", p.Get("output"));
        Assert.Equal("app=web", p.Get("selector"));
        Assert.Equal("kube-system", p.Get("namespace"));
        Assert.True(p.GetBool("all-namespaces"));
        Assert.True(p.GetBool("watch"));
        Assert.Equal(["pods"], p.Positionals);
    }

    [Fact]
    public void Arguments_after_double_dash_are_kept_verbatim()
    {
        var p = Parse("run", "sleeper", "--image=busybox", "--", "sleep", "--forever", "-x");
        Assert.Equal(["sleep", "--forever", "-x"], p.AfterDashes);
        Assert.Equal(["sleeper"], p.Positionals);
    }

    [Fact]
    public void Repeatable_flags_keep_every_value()
    {
        var p = Parse("run", "a", "--image=i", "--env=A=1", "--env", "B=2");
        Assert.Equal(["A=1", "B=2"], p.GetAll("env"));
    }

    [Fact]
    public void A_quoted_external_ip_arrives_without_its_shell_quotes()
    {
        // The shell removes the quotes of --external-ip="172.17.0.28"; the flag's value is the address.
        var p = Parse("expose", "deployment", "http", "--external-ip=127.0.0.51", "--port=8000", "--target-port=80");
        Assert.Equal("127.0.0.51", p.Get("external-ip"));
        Assert.Equal(["deployment", "http"], p.Positionals);
    }

    [Theory]
    [InlineData("--frobnicate=1", "unknown flag: --frobnicate")]
    [InlineData("-z", "unknown shorthand flag: 'z'")]
    [InlineData("--image", "flag needs an argument: --image")]
    public void Mistakes_are_usage_errors(string arg, string message)
    {
        var e = Assert.Throws<UsageException>(() => Parse("run", "x", arg));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_non_integer_replica_count_is_a_usage_error()
    {
        var p = Parse("scale", "deployment", "x", "--replicas=three");
        Assert.Throws<UsageException>(() => p.GetInt("replicas"));
    }
}
