using Orchestrator.Master.Api.Protobuf;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

public sealed class ProtobufJsonTests
{
    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(1_500_000_000L, "1.5s")]
    [InlineData(2_000_000L, "2ms")]
    [InlineData(90_000_000_000L, "1m30s")]
    [InlineData(3_600_000_000_000L, "1h0m0s")]
    [InlineData(-5_000_000_000L, "-5s")]
    public void Durations_read_as_go_prints_them(long nanoseconds, string expected) =>
        Assert.Equal(expected, ProtobufJson.GoDuration(nanoseconds));
}
