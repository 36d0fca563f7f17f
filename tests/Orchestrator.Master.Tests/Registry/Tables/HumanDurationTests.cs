using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Registry.Tables;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

public class HumanDurationTests
{
    [Theory]
    [InlineData(5, "5s")]
    [InlineData(119, "119s")]
    [InlineData(182, "3m2s")]
    [InlineData(180, "3m")]
    [InlineData(600, "10m")]
    [InlineData(3 * 3600 + 5 * 60, "3h5m")]
    [InlineData(5 * 3600, "5h")]
    [InlineData(10 * 3600 + 59 * 60, "10h")]
    [InlineData(2 * 86400, "2d")]
    [InlineData(3 * 86400 + 4 * 3600, "3d4h")]
    [InlineData(30 * 86400, "30d")]
    [InlineData(3 * 365 * 86400, "3y")]
    public void Ages_read_like_kubectl(int seconds, string expected) =>
        Assert.Equal(expected, HumanDuration.Format(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void A_missing_timestamp_is_unknown() =>
        Assert.Equal("<unknown>", HumanDuration.Since(null, DateTime.UtcNow));

    [Fact]
    public void Slight_clock_skew_reads_as_zero() =>
        Assert.Equal("0s", HumanDuration.Format(TimeSpan.FromMilliseconds(-500)));
}
