using System.Runtime;
using Microsoft.Extensions.Hosting;

namespace Orchestrator.Shared.Hosting;

/// <summary>
/// Gives the start-up's transient memory back (issue 19, idle footprint): the start-up allocates tens of megabytes that
/// die at once (the journal read back, the OpenAPI and discovery documents, the first lists and syncs) yet triggers no
/// collection, so the whole allocation budget stays resident while the process idles. A few seconds after the host has
/// started, and once more when the first work has settled, one compacting collection that returns freed memory to the
/// operating system; nothing after that (the GC's own budgets rule the steady state).
/// </summary>
public sealed class StartupMemoryTrim(IHostApplicationLifetime lifetime) : BackgroundService
{
    private static readonly TimeSpan[] After = [TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(20)];

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        await using (stopping.Register(() => started.TrySetCanceled()))
        {
            try { await started.Task; }
            catch (OperationCanceledException) { return; }
        }
        var since = TimeSpan.Zero;
        foreach (var at in After)
        {
            try { await Task.Delay(at - since, stopping); }
            catch (OperationCanceledException) { return; }
            since = at;
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
    }
}
