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
/// </summary>
internal sealed class OpenApiWarmup(ResourceCatalog catalog, IHostApplicationLifetime lifetime, ILogger<OpenApiWarmup> log,
    StoreHealth? store = null) : BackgroundService
{
    internal static readonly TimeSpan StoreWaitLimit = TimeSpan.FromSeconds(10);

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
            if (store is not null) await Task.WhenAny(store.FirstWritable, Task.Delay(StoreWaitLimit, stopping));
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
}
