using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Shared.Tests.Api;

public sealed class CronScheduleAndIndexSetTests
{
    private static CronSchedule Parse(string text)
    {
        Assert.True(CronSchedule.TryParse(text, out var schedule, out var error), error);
        return schedule!;
    }

    [Fact]
    public void Five_field_schedules_and_descriptors_fire_at_the_next_matching_minute()
    {
        var at = new DateTime(2026, 12, 2, 7, 30, 20, DateTimeKind.Utc);
        Assert.Equal(new DateTime(2026, 12, 2, 7, 31, 0, DateTimeKind.Utc), Parse("*/1 * * * *").Next(at, TimeZoneInfo.Utc));
        Assert.Equal(new DateTime(2026, 12, 2, 8, 0, 0, DateTimeKind.Utc), Parse("@hourly").Next(at, TimeZoneInfo.Utc));
        Assert.Equal(new DateTime(2026, 12, 3, 0, 0, 0, DateTimeKind.Utc), Parse("@daily").Next(at, TimeZoneInfo.Utc));
        Assert.Equal(new DateTime(2026, 12, 7, 9, 0, 0, DateTimeKind.Utc), Parse("0 9 * * MON").Next(at, TimeZoneInfo.Utc));
        Assert.Equal(at.AddSeconds(90), Parse("@every 1m30s").Next(at, TimeZoneInfo.Utc));
    }

    [Fact]
    public void A_time_zone_moves_the_firing_to_its_wall_clock()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var at = new DateTime(2026, 12, 2, 7, 30, 0, DateTimeKind.Utc);
        // 09:00 in Berlin (UTC+1 in December) is 08:00 UTC.
        Assert.Equal(new DateTime(2026, 12, 2, 8, 0, 0, DateTimeKind.Utc), Parse("0 9 * * *").Next(at, berlin));
    }

    [Theory]
    [InlineData("", "empty spec string")]
    [InlineData("* * * *", "expected exactly 5 fields, found 4: [* * * *]")]
    [InlineData("@fortnightly", "unrecognized descriptor: @fortnightly")]
    [InlineData("0 0 L * *", "failed to parse int from L: strconv.Atoi: parsing \"L\": invalid syntax")]
    [InlineData("@every 99999999999h99999999999h", "failed to parse duration @every 99999999999h99999999999h: time: invalid duration \"99999999999h99999999999h\"")] // past Go's range (was an OverflowException, a 500)
    public void Schedules_robfig_refuses_are_refused_with_its_message(string text, string message)
    {
        Assert.False(CronSchedule.TryParse(text, out _, out var error));
        Assert.Equal(message, error);
    }

    [Fact]
    public void Index_sets_print_runs_of_three_or_more_as_ranges_and_parse_back()
    {
        var set = IndexSet.Of([0, 1, 2, 4, 6, 7, 9, 10, 11, 12]);
        Assert.Equal("0-2,4,6,7,9-12", set.ToString());
        Assert.True(IndexSet.TryParse(set.ToString(), 13, out var back, out var error), error);
        Assert.Equal(set.Items, back.Items);
        Assert.Equal("", IndexSet.Empty.ToString());
    }

    [Theory]
    [InlineData("1,0", "non-increasing order, previous: 1, current: 0")]
    [InlineData("3-1", "non-increasing order, previous: 3, current: 1")]
    [InlineData("5", "too large index: \"5\"")]
    [InlineData("1-2-3", "the fragment \"1-2-3\" violates the requirement that an index interval can have at most two parts separated by '-'")]
    [InlineData("a", "cannot convert string to integer for index: \"a\"")]
    public void Malformed_index_sets_are_refused_with_kubernetes_messages(string text, string message)
    {
        Assert.False(IndexSet.TryParse(text, 5, out _, out var error));
        Assert.Equal(message, error);
    }
}
