using Orchestrator.Shared.Hosting;
using Xunit;

namespace Orchestrator.Shared.Tests.Hosting;

public sealed class AllInOneArgumentsTests
{
    [Fact]
    public void The_master_takes_what_comes_before_the_separator_and_the_node_what_follows()
    {
        var (master, node, error) = AllInOneArguments.Split(["--data-dir", "/d", "--api-port", "6443", "--", "--name", "n1", "--healthz-port", "0"]);
        Assert.Null(error);
        Assert.Equal(["--data-dir", "/d", "--api-port", "6443"], master);
        Assert.Equal(["--name", "n1", "--healthz-port", "0"], node);
    }

    [Fact]
    public void Without_a_separator_everything_is_the_masters_and_the_node_has_its_defaults()
    {
        var (master, node, error) = AllInOneArguments.Split(["--data-dir", "/d"]);
        Assert.Null(error);
        Assert.Equal(["--data-dir", "/d"], master);
        Assert.Empty(node);
        Assert.Equal((string[])[], AllInOneArguments.Split([]).Master);
    }

    [Fact]
    public void Either_side_may_be_empty()
    {
        var (master, node, _) = AllInOneArguments.Split(["--", "--name", "n1"]);
        Assert.Empty(master);
        Assert.Equal(["--name", "n1"], node);
        (master, node, _) = AllInOneArguments.Split(["--api-port", "1", "--"]);
        Assert.Equal(["--api-port", "1"], master);
        Assert.Empty(node);
    }

    [Fact]
    public void A_second_separator_is_an_error_naming_the_usage()
    {
        var (_, _, error) = AllInOneArguments.Split(["--api-port", "1", "--", "--name", "n1", "--", "--x"]);
        Assert.NotNull(error);
        Assert.Contains("only once", error);
        Assert.Contains(AllInOneArguments.Usage, error);
    }

    [Fact]
    public void The_nodes_api_server_proxy_command_is_refused()
    {
        var (_, _, error) = AllInOneArguments.Split(["--", "api-server-proxy", "--listen", "127.0.0.1:6444"]);
        Assert.Contains("orchestrator-node api-server-proxy", error);
    }

    [Fact]
    public void Help_is_asked_for_in_the_masters_part_only()
    {
        Assert.True(AllInOneArguments.WantsHelp(["--data-dir", "/d", "--help"]));
        Assert.True(AllInOneArguments.WantsHelp(["-h"]));
        Assert.False(AllInOneArguments.WantsHelp(AllInOneArguments.Split(["--", "--help"]).Master));
        Assert.False(AllInOneArguments.WantsHelp(["--data-dir", "/d"]));
    }

    [Fact]
    public void The_node_joins_its_own_master_unless_its_flags_say_otherwise()
    {
        var node = AllInOneArguments.NodeArgs(["--name", "n1"], "127.0.0.1", "4050", "/d/cluster.pfx");
        Assert.Equal(["--master", "127.0.0.1:4050", "--cluster-cert", "/d/cluster.pfx", "--name", "n1"], node);
        // given again after them, the node's own flags win (the last value of a flag counts: ProcessFlags)
        var flags = new ProcessFlags("orchestrator-node", "ORCHESTRATOR_NODE_", "",
            [new Flag("master", "", "127.0.0.1:4050"), new Flag("cluster-cert", "", null), new Flag("name", "", "x")]);
        var resolved = flags.Resolve(AllInOneArguments.NodeArgs(["--master", "10.0.0.1:4050"], "127.0.0.1", "4050", "/d/cluster.pfx"),
            new Dictionary<string, string>(), TextWriter.Null, TextWriter.Null);
        Assert.Equal("10.0.0.1:4050", resolved["master"]);
        Assert.Equal("/d/cluster.pfx", resolved["cluster-cert"]);
    }
}
