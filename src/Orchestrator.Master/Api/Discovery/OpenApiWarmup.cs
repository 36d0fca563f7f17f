using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Discovery;

/// <summary>
/// Builds the served catalog's OpenAPI v3 documents once the host has started, and again after each catalog change
/// (the newest snapshot only; changes that arrive during a build collapse into one), instead of on the first request
/// for them (issue 19): <c>kubectl apply</c> reads <c>/openapi/v3</c> before its first write, and built on that
/// request the documents held a fresh cluster's first pod create back by about a second. A request that arrives
/// during a build waits for it (<see cref="OpenApiDocuments"/> builds each snapshot's documents once).
/// </summary>
internal sealed class OpenApiWarmup(ResourceCatalog catalog, IHostApplicationLifetime lifetime, ILogger<OpenApiWarmup> log) : BackgroundService
{
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
            var started = new TaskCompletionSource();
            await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            await using (stopping.Register(() => started.TrySetCanceled()))
                await started.Task;
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
