using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using LinqToDB;
using Microsoft.Data.Sqlite;
using Orchestrator.Master.Store.Persistence;

namespace Orchestrator.Master.Store;

/// <summary>Where the store keeps its journal and snapshots.</summary>
internal sealed record StoreOptions(string DataDirectory)
{
    public ObjectStoreSettings Settings { get; init; } = ObjectStoreSettings.Default;

    public string DatabasePath => Path.Combine(DataDirectory, "store.db");
}

internal static class ObjectStoreHosting
{
    /// <summary>
    /// Journal and snapshot store on SQLite at <c>{DataDirectory}/store.db</c> (Akka.Persistence.Sql, tables
    /// created on first use), the store's record serializer, and the ObjectStore actor ("object-store"),
    /// registered in the ActorRegistry as <see cref="ObjectStore"/>, keeping the resources <paramref name="catalog"/>
    /// describes.
    /// </summary>
    public static AkkaConfigurationBuilder WithObjectStore(this AkkaConfigurationBuilder builder, StoreOptions options,
        IResourceCatalog catalog)
    {
        Directory.CreateDirectory(options.DataDirectory);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = options.DatabasePath }.ToString();
        UseWriteAheadLog(connectionString);

        return builder
            .AddHocon(StoreRecordSerializer.Hocon, HoconAddMode.Prepend)
            .WithSqlPersistence(connectionString, ProviderName.SQLiteMS, autoInitialize: true)
            .WithActors((system, registry) =>
            {
                var store = system.ActorOf(ObjectStore.Props(catalog, options.Settings), ObjectStore.ActorName);
                registry.Register<ObjectStore>(store);
            });
    }

    /// <summary>
    /// The journal and the snapshot store write the same file from different connections; in SQLite's WAL mode
    /// a reader never waits for the writer and writers wait less. The mode is a property of the file, so it is
    /// set once here, before Akka opens it.
    /// </summary>
    private static void UseWriteAheadLog(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }
}
