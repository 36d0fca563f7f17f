using System.Runtime;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Shared.Hosting;

/// <summary>
/// Gives memory back when the process falls idle (issue 19, idle footprint). The GC collects when an allocation
/// budget is used up, never because a process stopped allocating, so the garbage of a burst of work (the start-up: the
/// journal read back, the OpenAPI and discovery documents; a node's registration and first syncs; a wave of API
/// requests) stays resident, tens of MB of it, for as long as the process idles. Once a second this looks at how much
/// the process has allocated: after at least <see cref="IdleTrimPolicy.MinGarbageBytes"/> since the last trim, and
/// <see cref="IdleTrimPolicy.QuietTicks"/> ticks in a row of almost no allocation, one compacting collection that
/// decommits what it freed, then the C library's free heap memory (glibc <c>malloc_trim</c>). A busy process never
/// trims (the GC's own budgets rule it, so throughput is untouched); an idle one at most once per
/// <see cref="IdleTrimPolicy.MinGarbageBytes"/> allocated.
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
        // the start-up's garbage counts: from zero, not from now
        var decider = new IdleTrimDecider(policy, allocatedAtLastTrim: 0, allocatedNow: GC.GetTotalAllocatedBytes());
        using var timer = new PeriodicTimer(policy.Tick);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                if (!decider.Sample(GC.GetTotalAllocatedBytes())) continue;
                var before = GC.GetTotalMemory(forceFullCollection: false);
                Trim();
                decider.Trimmed(GC.GetTotalAllocatedBytes());
                log.LogDebug("Idle: collected, managed heap {Before} → {After} bytes", before, GC.GetTotalMemory(forceFullCollection: false));
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
/// each allocated at most <see cref="QuietBytesPerTick"/>, after at least <see cref="MinGarbageBytes"/> allocated since
/// the last trim.</summary>
internal sealed record IdleTrimPolicy(TimeSpan Tick, long QuietBytesPerTick, int QuietTicks, long MinGarbageBytes)
{
    // An idle master or node allocates tens of KB a second (heartbeats, gossip, resyncs): well under the quiet limit,
    // so it trims again only after MinGarbageBytes of that, minutes apart. A collection of the trimmed heap (20-40 MB
    // live) takes some ms; the garbage it bounds is at most MinGarbageBytes, the GC's own gen0 budget is larger.
    public static readonly IdleTrimPolicy Default = new(TimeSpan.FromSeconds(1), QuietBytesPerTick: 256 * 1024, QuietTicks: 2,
        MinGarbageBytes: 8 * 1024 * 1024);
}

/// <summary>The decision of <see cref="IdleMemoryTrim"/> from samples of the process's total allocated bytes, one a tick.</summary>
internal sealed class IdleTrimDecider(IdleTrimPolicy policy, long allocatedAtLastTrim, long allocatedNow)
{
    private long _lastTrim = allocatedAtLastTrim;
    private long _previous = allocatedNow;
    private int _quiet;

    /// <summary>Takes this tick's total; true when the process should trim now.</summary>
    public bool Sample(long allocated)
    {
        _quiet = allocated - _previous <= policy.QuietBytesPerTick ? _quiet + 1 : 0;
        _previous = allocated;
        return _quiet >= policy.QuietTicks && allocated - _lastTrim >= policy.MinGarbageBytes;
    }

    /// <summary>The trim is done; <paramref name="allocated"/> is the total after it (the collection allocates a little).</summary>
    public void Trimmed(long allocated)
    {
        _lastTrim = allocated;
        _previous = allocated;
        _quiet = 0;
    }
}

/// <summary>The C library's free heap memory given back to the system (glibc's malloc_trim): native code (SQLite, OpenSSL,
/// the runtime itself) frees into glibc's arenas, which keep the memory for good.</summary>
public static class NativeHeap
{
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            _ = malloc_trim(0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // not glibc (musl): nothing to trim this way
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
