using Xunit;

namespace Orchestrator.Node.Tests;

public sealed class HousekeepingIntervalTests
{
    [Fact]
    public void Resource_usage_is_sampled_every_ten_seconds_by_default_like_the_kubelets_housekeeping()
    {
        Assert.Equal(10, NodeOptions.Parse([]).HousekeepingInterval);
        Assert.Equal(2, NodeOptions.Parse(["--housekeeping-interval", "2"]).HousekeepingInterval);
    }

    [Fact]
    public void The_environment_sets_it_as_every_flag()
    {
        // as the E2E tests' clusters set it (ClusterFixture): a variable deploy/up.sh passes on to the node
        var errors = new StringWriter();
        var flags = NodeFlags.Definition.Resolve([], new Dictionary<string, string> { ["ORCHESTRATOR_NODE_HOUSEKEEPING_INTERVAL"] = "2" },
            TextWriter.Null, errors);
        Assert.True(flags.Exit is null, errors.ToString());
        Assert.Equal(2, NodeOptions.Parse(flags.ToArgs(except: "config")).HousekeepingInterval);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("often")]
    [InlineData("301")]
    public void An_interval_that_is_not_1_to_300_seconds_is_refused(string value)
    {
        var e = Assert.Throws<ArgumentException>(() => NodeOptions.Parse(["--housekeeping-interval", value]));
        Assert.Contains("--housekeeping-interval", e.Message);
    }
}
