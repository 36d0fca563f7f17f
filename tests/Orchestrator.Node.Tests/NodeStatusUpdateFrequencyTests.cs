using Xunit;

namespace Orchestrator.Node.Tests;

public sealed class NodeStatusUpdateFrequencyTests
{
    [Fact]
    public void Heartbeats_default_to_every_ten_seconds_like_the_kubelet()
    {
        Assert.Equal(10, NodeOptions.Parse([]).NodeStatusUpdateFrequency);
        Assert.Equal(2, NodeOptions.Parse(["--node-status-update-frequency", "2"]).NodeStatusUpdateFrequency);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("soon")]
    [InlineData("301")]
    public void A_frequency_that_is_not_1_to_300_seconds_is_refused(string value)
    {
        var e = Assert.Throws<ArgumentException>(() => NodeOptions.Parse(["--node-status-update-frequency", value]));
        Assert.Contains("--node-status-update-frequency", e.Message);
    }
}
