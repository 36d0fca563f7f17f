using Akka.Actor;
using Akka.Hosting;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Registry;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>The store on its real journal: SQLite under the data directory, through ObjectStoreHosting.</summary>
public sealed class ObjectStorePersistenceSpec : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "store-spec-" + Guid.NewGuid().ToString("N"));

    private async Task<(IHost Host, IActorRef Store)> Start(int snapshotEvery = 1000)
    {
        var options = new StoreOptions(_dataDirectory) { Settings = new ObjectStoreSettings(SnapshotEvery: snapshotEvery) };
        var host = new HostBuilder()
            .ConfigureServices(s => s.AddAkka("store-spec", b => b.WithObjectStore(options, BuiltIn.NewCatalog())))
            .Build();
        await host.StartAsync();
        var store = await host.Services.GetRequiredService<ActorRegistry>().GetAsync<ObjectStore>();
        return (host, store);
    }

    private static async Task<T> Ask<T>(IActorRef store, object message)
    {
        var reply = await store.Ask<object>(message, Timeout);
        return reply is T t ? t : throw new Xunit.Sdk.XunitException($"expected {typeof(T).Name}, got {reply}");
    }

    [Theory]
    [InlineData(1000)] // recovery replays every record
    [InlineData(3)]    // recovery starts from a snapshot
    public async Task Objects_survive_a_restart_and_new_writes_continue_the_sequence(int snapshotEvery)
    {
        var (host, store) = await Start(snapshotEvery);
        var created = (V1Deployment)(await Ask<ObjectStored>(store, new CreateObject("deployments", Objects.Deployment("web")))).Object;
        for (var i = 0; i < 5; i++) await Ask<ObjectStored>(store, new CreateObject("configmaps", Objects.ConfigMap($"c{i}")));
        await Ask<ObjectStored>(store, new DeleteObject(new ResourceKey("configmaps", "default", "c0")));
        var last = (await Ask<ObjectsListed>(store, new ListObjects("configmaps"))).ResourceVersion;
        await host.StopAsync();
        host.Dispose();
        Assert.Equal(snapshotEvery < 10, CountSnapshots() > 0);

        (host, store) = await Start(snapshotEvery);
        try
        {
            var again = (V1Deployment)(await Ask<ObjectStored>(store,
                new GetObject(new ResourceKey("deployments", "default", "web")))).Object;
            Assert.Equal(created.Metadata.ResourceVersion, again.Metadata.ResourceVersion);
            Assert.Equal(created.Metadata.Uid, again.Metadata.Uid);
            Assert.Equal("nginx:1.27", again.Spec.Template.Spec.Containers[0].Image);

            var listed = await Ask<ObjectsListed>(store, new ListObjects("configmaps"));
            Assert.Equal(["c1", "c2", "c3", "c4"], listed.Items.Select(i => i.Metadata.Name));
            Assert.Equal(last + 1, listed.ResourceVersion);

            // The restarted journal writer proved it can write with a probe record, which took one resourceVersion.
            var next = (await Ask<ObjectStored>(store, new CreateObject("configmaps", Objects.ConfigMap("after")))).Object;
            Assert.Equal((last + 2).ToString(), next.Metadata.ResourceVersion);

            // The defaults were seeded once, not again on restart.
            var namespaces = await Ask<ObjectsListed>(store, new ListObjects("namespaces"));
            Assert.Equal(4, namespaces.Items.Count);
        }
        finally
        {
            await host.StopAsync();
            host.Dispose();
        }
    }

    private long CountSnapshots()
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dataDirectory, "store.db")}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM snapshot";
        return (long)command.ExecuteScalar()!;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
    }
}
