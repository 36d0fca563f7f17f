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
        var decider = new IdleTrimDecider(Policy, heapAfterLastTrim: 0, allocatedNow: 30 * MB);
        Assert.False(decider.Sample(70 * MB, heap: 40 * MB)); // still busy
        Assert.False(decider.Sample(70 * MB + 20_000, 40 * MB)); // one quiet tick
        Assert.True(decider.Sample(70 * MB + 40_000, 40 * MB)); // two
    }

    [Fact]
    public void Never_trims_while_the_process_keeps_allocating()
    {
        var decider = new IdleTrimDecider(Policy, 0, 0);
        for (var tick = 1; tick <= 100; tick++) Assert.False(decider.Sample(tick * MB, 20 * MB + tick % 10 * MB));
    }

    [Fact]
    public void A_busy_tick_restarts_the_quiet_count()
    {
        var decider = new IdleTrimDecider(Policy, 0, 20 * MB);
        Assert.False(decider.Sample(20 * MB + 1, 20 * MB));
        Assert.False(decider.Sample(21 * MB, 21 * MB)); // busy again
        Assert.False(decider.Sample(21 * MB + 1, 21 * MB));
        Assert.True(decider.Sample(21 * MB + 2, 21 * MB));
    }

    [Fact]
    public void Does_not_trim_an_idle_process_whose_heap_has_not_grown_enough()
    {
        var decider = new IdleTrimDecider(Policy, 0, 7 * MB);
        for (var tick = 1; tick <= 10; tick++) Assert.False(decider.Sample(7 * MB + tick * 1000, 7 * MB));
    }

    [Fact]
    public void After_a_trim_waits_for_the_heap_to_grow_again()
    {
        var decider = new IdleTrimDecider(Policy, 0, 20 * MB);
        Assert.False(decider.Sample(20 * MB, 30 * MB));
        Assert.True(decider.Sample(20 * MB, 30 * MB));
        decider.Trimmed(20 * MB + 500, heap: 16 * MB);
        // an idle process's trickle (200 KB a tick), all of it still on the heap: no trim before it has grown by 8 MB
        var (allocated, heap) = (20 * MB + 500, 16 * MB);
        var trims = new List<int>();
        for (var tick = 1; tick <= 60; tick++)
        {
            allocated += 200 * 1024;
            heap += 200 * 1024;
            if (decider.Sample(allocated, heap)) { trims.Add(tick); decider.Trimmed(allocated, 16 * MB); heap = 16 * MB; }
        }
        Assert.Equal([41], trims); // 41 ticks × 200 KB ≥ 8 MB
    }

    [Fact]
    public void A_large_heap_trims_only_for_garbage_in_proportion_to_its_size()
    {
        var decider = new IdleTrimDecider(Policy, heapAfterLastTrim: 400 * MB, allocatedNow: 0);
        Assert.False(decider.Sample(0, 480 * MB));
        Assert.False(decider.Sample(0, 480 * MB)); // quiet, 80 MB more: under a quarter of 400 MB
        Assert.True(decider.Sample(0, 500 * MB));
    }
}
