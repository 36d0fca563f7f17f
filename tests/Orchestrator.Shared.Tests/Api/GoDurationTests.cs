using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Shared.Tests.Api;

/// <summary>Go's time.ParseDuration, which kube-apiserver reads ?timeout= with: its values and its error text.</summary>
public sealed class GoDurationTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("-0", 0L)]
    [InlineData("+5s", 5_000_000_000L)]
    [InlineData("1h30m", 5_400_000_000_000L)]
    [InlineData("1.5s", 1_500_000_000L)]
    [InlineData(".5m", 30_000_000_000L)]
    [InlineData("2.s", 2_000_000_000L)]
    [InlineData("-1m0s", -60_000_000_000L)]
    [InlineData("1ns", 1L)]
    [InlineData("3us", 3_000L)]
    [InlineData("3µs", 3_000L)]
    [InlineData("3μs", 3_000L)]
    [InlineData("250ms", 250_000_000L)]
    [InlineData("9223372036854775807ns", long.MaxValue)]
    [InlineData("-9223372036854775808ns", long.MinValue)]
    public void Durations_read_as_go_reads_them(string text, long nanoseconds)
    {
        Assert.Equal(nanoseconds, GoDuration.TryParse(text, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("", "time: invalid duration \"\"")]
    [InlineData("abc", "time: invalid duration \"abc\"")]
    [InlineData("-", "time: invalid duration \"-\"")]
    [InlineData(".s", "time: invalid duration \".s\"")]
    [InlineData("1s2", "time: missing unit in duration \"1s2\"")]
    [InlineData("5", "time: missing unit in duration \"5\"")]
    [InlineData("1d", "time: unknown unit \"d\" in duration \"1d\"")]
    [InlineData("5 s", "time: unknown unit \" s\" in duration \"5 s\"")]
    [InlineData("1é", "time: unknown unit \"\\xc3\\xa9\" in duration \"1\\xc3\\xa9\"")]
    [InlineData("9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\"")]
    [InlineData("3000000h", "time: invalid duration \"3000000h\"")]
    public void Bad_durations_get_gos_error(string text, string message)
    {
        Assert.Null(GoDuration.TryParse(text, out var error));
        Assert.Equal(message, error);
    }
}
