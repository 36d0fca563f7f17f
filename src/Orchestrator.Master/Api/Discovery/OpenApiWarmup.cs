using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Discovery;

/// <summary>
/// Builds the served catalog's OpenAPI v3 documents once the host has started, and again after each catalog change
/// (the newest snapshot only; changes that arrive during a build collapse into one), instead of on the first request
/// for them (issue 19): <c>kubectl apply</c> reads <c>/openapi/v3</c> before its first write, and built on that
/// request the documents held a fresh cluster's first pod create back by about a second. A request that arrives
/// during a build waits for it (<see cref="OpenApiDocuments"/> builds each snapshot's documents once).
/// The first build waits for the store's recovery too (at most <see cref="StoreWaitLimit"/>: a master of several whose
/// store is another's never recovers one): about a second of CPU that, on a start-up's two busy cores, held the
/// recovery and so the API's readiness back. kubectl reads the documents before its first apply, never before ready.
/// Then it waits for the start-up's burst of work to end (<see cref="QuietTicks"/> ticks in a row each allocating at most
/// <see cref="QuietBytesPerTick"/>, at most <see cref="QuietWaitLimit"/>): right after the store's recovery come the
/// controllers' first syncs and, in orchestrator-all-in-one, the node's start, join and registration, whose CPU the
/// build (its first use of the Kubernetes client's XML documentation among the rest) took on two cores, delaying the
/// node's Ready. A request for the documents before the build still gets them (built on that request, as before).
/// </summary>
internal sealed class OpenApiWarmup(ResourceCatalog catalog, IHostApplicationLifetime lifetime, ILogger<OpenApiWarmup> log,
    StoreHealth? store = null) : BackgroundService
{
    internal static readonly TimeSpan StoreWaitLimit = TimeSpan.FromSeconds(10);
    internal static readonly TimeSpan QuietTick = TimeSpan.FromMilliseconds(250);
    internal const long QuietBytesPerTick = 256 * 1024; // an idle master allocates 15-25 KB a second; a start-up MBs
    internal const int QuietTicks = 2;
    internal static readonly TimeSpan QuietWaitLimit = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var changed = new SemaphoreSlim(0, 1);
        void OnChanged(CatalogSnapshot _)
        {
            if (changed.CurrentCount == 0) try { changed.Release(); } catch (SemaphoreFullException) { }
        }
        catalog.Changed += OnChanged;
        try
        {
            // (continued on the thread pool, not inside the host's ApplicationStarted callbacks)
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            await using (stopping.Register(() => started.TrySetCanceled()))
                await started.Task;
            if (store is not null)
            {
                await Task.WhenAny(store.FirstWritable, Task.Delay(StoreWaitLimit, stopping));
                stopping.ThrowIfCancellationRequested();
                await Quiet(stopping);
            }
            stopping.ThrowIfCancellationRequested();
            while (true)
            {
                try { OpenApiDocuments.For(catalog.Current).BuildV3(); }
                catch (Exception e) { log.LogWarning(e, "Building the OpenAPI v3 documents ahead of their first request failed"); }
                await changed.WaitAsync(stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested) { }
        finally { catalog.Changed -= OnChanged; }
    }

    /// <summary>Until the process has allocated little for <see cref="QuietTicks"/> ticks in a row, or
    /// <see cref="QuietWaitLimit"/> has passed.</summary>
    private static async Task Quiet(CancellationToken stopping)
    {
        var limit = Environment.TickCount64 + (long)QuietWaitLimit.TotalMilliseconds;
        var previous = GC.GetTotalAllocatedBytes();
        for (var quiet = 0; quiet < QuietTicks && Environment.TickCount64 < limit;)
        {
            await Task.Delay(QuietTick, stopping);
            var allocated = GC.GetTotalAllocatedBytes();
            quiet = allocated - previous <= QuietBytesPerTick ? quiet + 1 : 0;
            previous = allocated;
        }
    }
}
