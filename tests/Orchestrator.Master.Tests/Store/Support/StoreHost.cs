using Orchestrator.Master.Registry;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Tests.Store.Support;

/// <summary>The store as the master hosts it (SQLite file in a data directory, through ObjectStoreHosting), ready.</summary>
internal sealed class StoreHost : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private StoreHost(IHost host, IActorRef store, StoreOptions options)
    {
        Host = host;
        Store = store;
        Options = options;
    }

    public IHost Host { get; }
    public IActorRef Store { get; }
    public StoreOptions Options { get; }

    /// <summary>Starts the store and waits until it is ready (a fresh <see cref="StoreHealth"/> each time).</summary>
    public static async Task<StoreHost> StartAsync(StoreOptions options)
    {
        options = options with { Health = new StoreHealth() };
        var host = new HostBuilder()
            .ConfigureServices(s => s.AddAkka("store-" + Guid.NewGuid().ToString("N")[..8], b => b
                .AddHocon("akka.loglevel = WARNING", HoconAddMode.Prepend)
                .WithObjectStore(options, RegistryHosting.BuiltInCatalog())))
            .Build();
        await host.StartAsync();
        var store = await host.Services.GetRequiredService<ActorRegistry>().GetAsync<ObjectStore>();
        var deadline = DateTime.UtcNow + Timeout;
        while (!options.Health.Ready)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the store was not ready: {options.Health.NotReadyReason}");
            await Task.Delay(20);
        }
        return new StoreHost(host, store, options);
    }

    public async Task<T> Ask<T>(object message)
    {
        var reply = await Store.Ask<object>(message, Timeout);
        return reply is T t ? t : throw new Xunit.Sdk.XunitException($"expected {typeof(T).Name}, got {reply}");
    }

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    /// <summary>The bytes of store.db and its WAL, as anyone who can read the files sees them.</summary>
    public static byte[] FileBytes(string databasePath) =>
        new[] { databasePath, databasePath + "-wal" }.Where(File.Exists).SelectMany(ReadShared).ToArray();

    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    public static bool Contains(byte[] haystack, string needle) =>
        haystack.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(needle)) >= 0;
}
