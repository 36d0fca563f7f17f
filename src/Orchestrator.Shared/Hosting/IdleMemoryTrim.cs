using System.Runtime;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Shared.Hosting;

/// <summary>
/// Gives memory back when the process falls idle (issue 19, idle footprint). The GC collects when an allocation
/// budget is used up, never because a process stopped allocating, so the garbage of a burst of work (the start-up: the
/// journal read back, the OpenAPI and discovery documents; a node's registration and first syncs; a wave of API
/// requests) stays resident, tens of MB of it, for as long as the process idles. Once a second this looks at how much
/// the process has allocated and how large its managed heap is: after <see cref="IdleTrimPolicy.QuietTicks"/> ticks in
/// a row of almost no allocation, if the heap has grown since the last trim by at least
/// <see cref="IdleTrimPolicy.MinGarbageBytes"/> and a quarter of what was left then, one compacting collection that
/// decommits what it freed, then the C library's free heap memory (glibc <c>malloc_trim</c>). A busy process never
/// trims (the GC's own budgets rule it, so throughput is untouched); an idle one again only once its heap has grown, and
/// a large heap (a store of many objects) only for garbage in proportion to its size, which bounds what the trims cost.
/// </summary>
public sealed class IdleMemoryTrim(IHostApplicationLifetime lifetime, ILogger<IdleMemoryTrim> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        await using (stopping.Register(() => started.TrySetCanceled()))
        {
            try { await started.Task; }
            catch (OperationCanceledException) { return; }
        }
        var policy = IdleTrimPolicy.Default;
        // the start-up's garbage counts: measured from an empty heap, not from now
        var decider = new IdleTrimDecider(policy, heapAfterLastTrim: 0, allocatedNow: GC.GetTotalAllocatedBytes());
        using var timer = new PeriodicTimer(policy.Tick);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                var heap = GC.GetTotalMemory(forceFullCollection: false);
                if (!decider.Sample(GC.GetTotalAllocatedBytes(), heap)) continue;
                Trim();
                var after = GC.GetTotalMemory(forceFullCollection: false);
                decider.Trimmed(GC.GetTotalAllocatedBytes(), after);
                log.LogDebug("Idle: collected, managed heap {Before} → {After} bytes", heap, after);
            }
        }
        catch (OperationCanceledException) { }
    }

    private static void Trim()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        NativeHeap.Trim();
    }
}

/// <summary>When <see cref="IdleMemoryTrim"/> trims: <see cref="QuietTicks"/> ticks of <see cref="Tick"/> in a row that
/// each allocated at most <see cref="QuietBytesPerTick"/>, with the managed heap grown since the last trim by at least
/// <see cref="MinGarbageBytes"/> and a quarter of its size then.</summary>
internal sealed record IdleTrimPolicy(TimeSpan Tick, long QuietBytesPerTick, int QuietTicks, long MinGarbageBytes)
{
    // An idle master or node allocates 15-25 KB a second (heartbeats, gossip, resyncs): well under the quiet limit, so
    // it trims again only once its heap has grown by MinGarbageBytes of that, minutes apart. A collection of a trimmed
    // idle heap (15-40 MB live) takes a few ms.
    public static readonly IdleTrimPolicy Default = new(TimeSpan.FromSeconds(1), QuietBytesPerTick: 256 * 1024, QuietTicks: 2,
        MinGarbageBytes: 8 * 1024 * 1024);
}

/// <summary>The decision of <see cref="IdleMemoryTrim"/> from one sample a tick of the process's total allocated bytes
/// and its managed heap's size (live objects and the garbage not yet collected).</summary>
internal sealed class IdleTrimDecider(IdleTrimPolicy policy, long heapAfterLastTrim, long allocatedNow)
{
    private long _heapAfterTrim = heapAfterLastTrim;
    private long _previous = allocatedNow;
    private int _quiet;

    /// <summary>Takes this tick's totals; true when the process should trim now.</summary>
    public bool Sample(long allocated, long heap)
    {
        _quiet = allocated - _previous <= policy.QuietBytesPerTick ? _quiet + 1 : 0;
        _previous = allocated;
        return _quiet >= policy.QuietTicks && heap - _heapAfterTrim >= Math.Max(policy.MinGarbageBytes, _heapAfterTrim / 4);
    }

    /// <summary>The trim is done: the totals after it (the collection allocates a little).</summary>
    public void Trimmed(long allocated, long heap)
    {
        _heapAfterTrim = heap;
        _previous = allocated;
        _quiet = 0;
    }
}
