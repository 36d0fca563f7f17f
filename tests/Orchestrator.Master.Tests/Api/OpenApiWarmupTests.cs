using Xunit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Master.Api.Discovery;
using Orchestrator.Master.Tests.Registry;

namespace Orchestrator.Master.Tests.Api;

/// <summary>The OpenAPI v3 documents are built once the host has started and again for each new catalog snapshot,
/// not left to the first request for them (kubectl's first apply).</summary>
public sealed class OpenApiWarmupTests
{
    [Fact]
    public async Task Builds_the_v3_documents_once_started_and_again_for_a_changed_catalog()
    {
        var catalog = BuiltIn.NewCatalog();
        var lifetime = new Lifetime();
        var warmup = new OpenApiWarmup(catalog, lifetime, NullLogger<OpenApiWarmup>.Instance);
        await warmup.StartAsync(CancellationToken.None);
        try
        {
            var first = catalog.Current;
            Assert.False(OpenApiDocuments.For(first).V3Built); // not before the host has started
            lifetime.Start();
            await Eventually(() => OpenApiDocuments.For(first).V3Built);

            catalog.Set("warmup-test", []);
            var second = catalog.Current;
            Assert.NotSame(first, second);
            await Eventually(() => OpenApiDocuments.For(second).V3Built);
        }
        finally
        {
            await warmup.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Builds_the_first_documents_only_once_the_store_can_write()
    {
        var catalog = BuiltIn.NewCatalog();
        var lifetime = new Lifetime();
        var store = new Orchestrator.Master.Store.StoreHealth();
        var warmup = new OpenApiWarmup(catalog, lifetime, NullLogger<OpenApiWarmup>.Instance, store);
        await warmup.StartAsync(CancellationToken.None);
        try
        {
            lifetime.Start();
            await Task.Delay(300);
            Assert.False(OpenApiDocuments.For(catalog.Current).V3Built); // the store still recovers
            store.Writable();
            await Eventually(() => OpenApiDocuments.For(catalog.Current).V3Built);
        }
        finally
        {
            await warmup.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Builds_the_first_documents_only_once_the_process_is_no_longer_busy()
    {
        var catalog = BuiltIn.NewCatalog();
        var lifetime = new Lifetime();
        var store = new Orchestrator.Master.Store.StoreHealth();
        var warmup = new OpenApiWarmup(catalog, lifetime, NullLogger<OpenApiWarmup>.Instance, store);
        await warmup.StartAsync(CancellationToken.None);
        using var busy = new CancellationTokenSource();
        // the start-up's burst of work, as the allocations the warm-up watches: MBs a second
        var work = Task.Run(() =>
        {
            var kept = new byte[64][];
            for (var i = 0; !busy.IsCancellationRequested; i++) kept[i % kept.Length] = new byte[16 * 1024];
            GC.KeepAlive(kept);
        });
        try
        {
            lifetime.Start();
            store.Writable();
            await Task.Delay(OpenApiWarmup.QuietTick * (OpenApiWarmup.QuietTicks + 2));
            Assert.False(OpenApiDocuments.For(catalog.Current).V3Built); // the process is still busy
            busy.Cancel();
            await work;
            await Eventually(() => OpenApiDocuments.For(catalog.Current).V3Built);
        }
        finally
        {
            busy.Cancel();
            await warmup.StopAsync(CancellationToken.None);
        }
    }

    private static async Task Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 600 && !condition(); i++) await Task.Delay(50);
        Assert.True(condition());
    }

    private sealed class Lifetime : IHostApplicationLifetime
    {
        private readonly CancellationTokenSource _started = new();
        public CancellationToken ApplicationStarted => _started.Token;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void Start() => _started.Cancel();
        public void StopApplication() { }
    }
}
