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

    private static readonly DateTime Start = new(2026, 12, 6, 4, 0, 0, DateTimeKind.Utc);

    public static TheoryData<long> AgesInMilliseconds()
    {
        var ages = new TheoryData<long>();
        foreach (var seconds in new long[] { -3, -1, 0, 1, 59, 119, 120, 179, 180, 181, 599, 600, 601, 3599, 3600, 10799, 10800,
                     8 * 3600 - 1, 8 * 3600, 47 * 3600 + 3599, 48 * 3600, 8 * 86400 - 1, 8 * 86400, 730 * 86400 - 1, 730 * 86400,
                     3 * 365 * 86400 + 86399 })
            foreach (var ms in new long[] { 0, 1, 499, 999 })
                ages.Add(seconds * 1000 + ms);
        return ages;
    }

    /// <summary>An age noted while tracking keeps its text until the moment noted, and (below eight years, where a day is the
    /// unit shown) changes it a moment after.</summary>
    [Theory]
    [MemberData(nameof(AgesInMilliseconds))]
    public void A_tracked_age_holds_its_text_until_the_moment_noted(long milliseconds)
    {
        var created = Start;
        var now = Start.AddMilliseconds(milliseconds);
        string text;
        DateTime until;
        using (var ages = HumanDuration.Track())
        {
            text = HumanDuration.Since(created, now);
            until = ages.Until;
        }
        Assert.True(until > now, $"{until:O} after {now:O}");
        Assert.Equal(text, HumanDuration.Since(created, until.AddTicks(-1)));
        Assert.Equal(text, HumanDuration.Since(created, until));
        if (milliseconds >= 0) Assert.NotEqual(text, HumanDuration.Since(created, until.AddMilliseconds(1)));
    }

    [Fact]
    public void Tracking_notes_the_earliest_change_of_all_ages_and_nothing_outside_it()
    {
        HumanDuration.Since(Start, Start.AddSeconds(1)); // not tracked: not noted
        using var ages = HumanDuration.Track();
        Assert.Equal(DateTime.MaxValue, ages.Until);
        var now = Start.AddHours(5);
        HumanDuration.Since(Start, now);                             // 5h: the next minute
        HumanDuration.Elapsed(now.AddSeconds(-30.25), now);          // 30s: a quarter second on
        HumanDuration.Format(TimeSpan.FromMilliseconds(10));         // a duration, not an age: not noted
        Assert.Equal(now.AddMilliseconds(750).AddTicks(-10), ages.Until);
    }

    [Fact]
    public void Nested_tracking_leaves_the_outer_scope_its_earliest_moment()
    {
        var now = Start.AddHours(5);
        using var outer = HumanDuration.Track();
        HumanDuration.Since(Start, now);
        using (var inner = HumanDuration.Track())
        {
            HumanDuration.Since(now.AddSeconds(-1), now);
            Assert.Equal(now.AddSeconds(1).AddTicks(-10), inner.Until);
        }
        Assert.Equal(now.AddSeconds(1).AddTicks(-10), outer.Until);
    }
}
