using Akka.Actor;
using Akka.Hosting;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Master.Tests.Store.Support;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>The store on its real journal, through ObjectStoreHosting: SQLite under the data directory
/// (<see cref="ObjectStorePersistenceOnSqlite"/>) or PostgreSQL (<see cref="ObjectStorePersistenceOnPostgres"/>).</summary>
public abstract class ObjectStorePersistenceSpec : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "store-spec-" + Guid.NewGuid().ToString("N"));
    private readonly StoreBackend _backend;

    private protected ObjectStorePersistenceSpec(PostgresServer? postgres) => _backend = new StoreBackend(_dataDirectory, postgres);

    private async Task<(IHost Host, IActorRef Store)> Start(int snapshotEvery = 1000)
    {
        var options = _backend.Options() with { Settings = new ObjectStoreSettings(SnapshotEvery: snapshotEvery) };
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

    [SkippableTheory]
    [InlineData(1000)] // recovery replays every record
    [InlineData(3)]    // recovery starts from a snapshot
    public async Task Objects_survive_a_restart_and_new_writes_continue_the_sequence(int snapshotEvery)
    {
        var (host, store) = await Start(snapshotEvery);
        var created = (V1Deployment)(await Ask<ObjectStored>(store, new CreateObject("deployments", Objects.Deployment("web")))).Object;
        for (var i = 0; i < 5; i++) await Ask<ObjectStored>(store, new CreateObject("configmaps", Objects.ConfigMap($"c{i}")));
        await Ask<ObjectStored>(store, new DeleteObject(new ResourceKey("configmaps", "default", "c0")));
        var last = (await Ask<ObjectsListed>(store, new ListObjects("configmaps"))).ResourceVersion;
        // a snapshot is saved beside the journal, asynchronously: under load (CI at load 30) it may still be on its way
        for (var waited = 0; snapshotEvery < 10 && CountSnapshots() == 0 && waited < 10_000; waited += 50) await Task.Delay(50);
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

    [SkippableFact]
    public async Task Writes_sent_at_once_take_distinct_increasing_versions_and_all_survive_a_restart()
    {
        var (host, store) = await Start();
        // Sent at once: all but the first arrive while a journal write is in flight and are committed in groups.
        var names = Enumerable.Range(0, 200).Select(i => $"g{i:D3}").ToList();
        var answers = await Task.WhenAll(names.Select(n => Ask<ObjectStored>(store, new CreateObject("configmaps", Objects.ConfigMap(n)))));
        var versions = answers.ToDictionary(a => a.Object.Metadata.Name, a => long.Parse(a.Object.Metadata.ResourceVersion));
        Assert.Equal(names.Count, versions.Values.Distinct().Count());
        var last = (await Ask<ObjectsListed>(store, new ListObjects("configmaps"))).ResourceVersion;
        Assert.Equal(versions.Values.Max(), last);
        await host.StopAsync();
        host.Dispose();

        (host, store) = await Start();
        try
        {
            var listed = await Ask<ObjectsListed>(store, new ListObjects("configmaps", "default"));
            Assert.Equal(versions.OrderBy(v => v.Key), listed.Items.Select(i => KeyValuePair.Create(i.Metadata.Name, long.Parse(i.Metadata.ResourceVersion))));
            var next = (await Ask<ObjectStored>(store, new CreateObject("configmaps", Objects.ConfigMap("after")))).Object;
            Assert.True(long.Parse(next.Metadata.ResourceVersion) > last);
        }
        finally
        {
            await host.StopAsync();
            host.Dispose();
        }
    }

    private long CountSnapshots()
    {
        using var connection = _backend.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM snapshot";
        return Convert.ToInt64(command.ExecuteScalar());
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
    }
}

public sealed class ObjectStorePersistenceOnSqlite() : ObjectStorePersistenceSpec(null);

[Collection(PostgresCollection.Name)]
public sealed class ObjectStorePersistenceOnPostgres(PostgresServer postgres) : ObjectStorePersistenceSpec(postgres);
