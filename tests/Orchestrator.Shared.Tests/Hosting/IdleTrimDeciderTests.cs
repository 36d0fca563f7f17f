using Orchestrator.Shared.Hosting;
using Xunit;

namespace Orchestrator.Shared.Tests.Hosting;

public sealed class IdleTrimDeciderTests
{
    private const long MB = 1024 * 1024;
    private static readonly IdleTrimPolicy Policy = new(TimeSpan.FromSeconds(1), QuietBytesPerTick: 256 * 1024, QuietTicks: 2, MinGarbageBytes: 8 * MB);

    [Fact]
    public void Trims_once_the_start_ups_garbage_is_followed_by_quiet_ticks()
    {
        var decider = new IdleTrimDecider(Policy, allocatedAtLastTrim: 0, allocatedNow: 30 * MB);
        Assert.False(decider.Sample(70 * MB)); // still busy
        Assert.False(decider.Sample(70 * MB + 20_000)); // one quiet tick
        Assert.True(decider.Sample(70 * MB + 40_000)); // two
    }

    [Fact]
    public void Never_trims_while_the_process_keeps_allocating()
    {
        var decider = new IdleTrimDecider(Policy, 0, 0);
        for (var tick = 1; tick <= 100; tick++) Assert.False(decider.Sample(tick * MB));
    }

    [Fact]
    public void A_busy_tick_restarts_the_quiet_count()
    {
        var decider = new IdleTrimDecider(Policy, 0, 20 * MB);
        Assert.False(decider.Sample(20 * MB + 1));
        Assert.False(decider.Sample(21 * MB)); // busy again
        Assert.False(decider.Sample(21 * MB + 1));
        Assert.True(decider.Sample(21 * MB + 2));
    }

    [Fact]
    public void Does_not_trim_an_idle_process_with_little_garbage()
    {
        var decider = new IdleTrimDecider(Policy, 0, 7 * MB);
        for (var tick = 1; tick <= 10; tick++) Assert.False(decider.Sample(7 * MB + tick * 1000));
    }

    [Fact]
    public void After_a_trim_waits_for_new_garbage_and_trims_again_when_it_has_accumulated()
    {
        var decider = new IdleTrimDecider(Policy, 0, 20 * MB);
        Assert.False(decider.Sample(20 * MB));
        Assert.True(decider.Sample(20 * MB));
        decider.Trimmed(20 * MB + 500);
        // an idle process's trickle (200 KB a tick): quiet, but no trim before 8 MB more
        var allocated = 20 * MB + 500;
        var trims = new List<int>();
        for (var tick = 1; tick <= 60; tick++)
        {
            allocated += 200 * 1024;
            if (decider.Sample(allocated)) { trims.Add(tick); decider.Trimmed(allocated); }
        }
        Assert.Equal([41], trims); // 41 ticks × 200 KB ≥ 8 MB
    }
}
