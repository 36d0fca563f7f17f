using Orchestrator.Master.Registry;
using Microsoft.Data.Sqlite;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Master.Tests.Store.Support;
using Xunit;

namespace Orchestrator.Master.Tests.Store.Persistence;

/// <summary>The start-up check of the journal: a damaged record is named, and skipped only when asked; on SQLite
/// (<see cref="JournalCheckOnSqlite"/>, also a damaged file) and on PostgreSQL (<see cref="JournalCheckOnPostgres"/>).</summary>
public abstract class JournalCheckSpec : IDisposable
{
    private protected readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "journal-check-" + Guid.NewGuid().ToString("N"));
    private readonly StoreBackend _backend;

    private protected JournalCheckSpec(PostgresServer? postgres) => _backend = new StoreBackend(_dataDirectory, postgres);

    private protected StoreOptions Options(int snapshotEvery = 1000, StoreRecovery recovery = StoreRecovery.None) =>
        _backend.Options() with { Settings = new ObjectStoreSettings(SnapshotEvery: snapshotEvery), Recovery = recovery };

    /// <summary>How messages name the journal.</summary>
    private string DatabasePath => _backend.Name;

    /// <summary>Stores configmaps c0..c{count-1}; returns the resourceVersion of each.</summary>
    private protected async Task<Dictionary<string, long>> Populate(int count, int snapshotEvery = 1000)
    {
        await using var host = await StoreHost.StartAsync(Options(snapshotEvery));
        var versions = new Dictionary<string, long>();
        for (var i = 0; i < count; i++)
            versions[$"c{i}"] = long.Parse((await host.Ask<ObjectStored>(new CreateObject("configmaps", Objects.ConfigMap($"c{i}")))).Object.Metadata.ResourceVersion);
        if (snapshotEvery < count) await SnapshotSaved();
        return versions;
    }

    private protected System.Data.Common.DbConnection Open() => _backend.Open();

    /// <summary>Waits until a snapshot is stored: the writer encodes and saves one in the background, so a store
    /// stopped right after the writes that call for one may not have saved it (recovery then replays the journal).</summary>
    private async Task SnapshotSaved()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using (var connection = Open())
            using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT COUNT(*) FROM snapshot";
                if (Convert.ToInt64(command.ExecuteScalar()) > 0) return;
            }
            Assert.True(DateTime.UtcNow < deadline, "no snapshot was saved within 30 s");
            await Task.Delay(50);
        }
    }

    private static void Parameter(System.Data.Common.DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    /// <summary>Flips one byte in the middle of a record's payload, as a failing disk would.</summary>
    private void FlipByte(string table, string column, long sequence)
    {
        using var connection = Open();
        using var read = connection.CreateCommand();
        read.CommandText = $"SELECT {column} FROM {table} WHERE sequence_number = @seq";
        Parameter(read, "@seq", sequence);
        var bytes = (byte[])read.ExecuteScalar()!;
        bytes[bytes.Length / 2] ^= 0x20;
        using var write = connection.CreateCommand();
        write.CommandText = $"UPDATE {table} SET {column} = @bytes WHERE sequence_number = @seq";
        Parameter(write, "@bytes", bytes);
        Parameter(write, "@seq", sequence);
        Assert.Equal(1, write.ExecuteNonQuery());
    }

    [SkippableFact]
    public async Task An_intact_journal_passes()
    {
        await Populate(3);
        Assert.Null(ObjectStoreHosting.PrepareStore(Options(), RegistryHosting.BuiltInCatalog(), _ => { }));
    }

    [SkippableFact]
    public async Task A_corrupt_journal_record_is_named_with_its_file_and_sequence_number()
    {
        var versions = await Populate(5);
        FlipByte("journal", "message", versions["c2"]);

        var error = ObjectStoreHosting.PrepareStore(Options(), RegistryHosting.BuiltInCatalog(), _ => { });

        Assert.NotNull(error);
        Assert.StartsWith($"{DatabasePath}: journal record {versions["c2"]} is corrupt: checksum mismatch", error);
        Assert.EndsWith("start with --store-recovery=skip-corrupt to drop the corrupt records (their changes are lost)", error);
        Assert.DoesNotContain('\n', error);
    }

    [SkippableFact]
    public async Task Skip_corrupt_drops_the_record_and_the_store_starts_with_the_rest()
    {
        var versions = await Populate(5);
        FlipByte("journal", "message", versions["c2"]);
        var warnings = new List<string>();

        Assert.Null(ObjectStoreHosting.PrepareStore(Options(recovery: StoreRecovery.SkipCorrupt), RegistryHosting.BuiltInCatalog(), warnings.Add));

        Assert.StartsWith($"{DatabasePath}: dropped the corrupt journal record {versions["c2"]}: checksum mismatch (stored ", Assert.Single(warnings));
        await using var host = await StoreHost.StartAsync(Options());
        var listed = await host.Ask<ObjectsListed>(new ListObjects("configmaps", "default"));
        Assert.Equal(["c0", "c1", "c3", "c4"], listed.Items.Select(i => i.Metadata.Name));
        Assert.True(listed.ResourceVersion > versions["c4"]);
        // Dropped once: the next start finds nothing to say.
        Assert.Null(ObjectStoreHosting.PrepareStore(Options(), RegistryHosting.BuiltInCatalog(), _ => { }));
    }

    [SkippableFact]
    public async Task A_corrupt_snapshot_is_named_and_skip_corrupt_starts_from_the_journal_after_it()
    {
        await Populate(12, snapshotEvery: 5);
        long snapshot;
        using (var connection = Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT MAX(sequence_number) FROM snapshot";
            snapshot = Convert.ToInt64(command.ExecuteScalar());
        }
        FlipByte("snapshot", "snapshot", snapshot);

        Assert.StartsWith($"{DatabasePath}: the snapshot at sequence number {snapshot} is corrupt: checksum mismatch",
            ObjectStoreHosting.PrepareStore(Options(), RegistryHosting.BuiltInCatalog(), _ => { }));
        var warnings = new List<string>();
        Assert.Null(ObjectStoreHosting.PrepareStore(Options(recovery: StoreRecovery.SkipCorrupt), RegistryHosting.BuiltInCatalog(), warnings.Add));
        Assert.StartsWith($"{DatabasePath}: dropped the corrupt snapshot at sequence number {snapshot}", Assert.Single(warnings));
        await using var host = await StoreHost.StartAsync(Options());
        Assert.NotEmpty((await host.Ask<ObjectsListed>(new ListObjects("namespaces"))).Items);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
    }
}

public sealed class JournalCheckOnSqlite() : JournalCheckSpec(null)
{
    private string SqlitePath => Path.Combine(_dataDirectory, "store.db");

    [Fact]
    public async Task A_damaged_page_is_named_and_never_skipped()
    {
        await Populate(200);
        using (var connection = Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            command.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();
        // Overwrite the middle of the file: b-tree pages of the journal.
        using (var file = new FileStream(SqlitePath, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length / 2 / 4096 * 4096;
            file.Write(Enumerable.Repeat((byte)0xA5, 4096).ToArray());
        }

        var error = ObjectStoreHosting.PrepareStore(Options(), RegistryHosting.BuiltInCatalog(), _ => { });
        Assert.NotNull(error);
        Assert.StartsWith($"{SqlitePath}: the database file is damaged (", error);
        Assert.Contains("cannot repair a damaged file", error);
        Assert.DoesNotContain('\n', error);
        Assert.Equal(error, ObjectStoreHosting.PrepareStore(Options(recovery: StoreRecovery.SkipCorrupt), RegistryHosting.BuiltInCatalog(), _ => { }));
    }
}

[Collection(PostgresCollection.Name)]
public sealed class JournalCheckOnPostgres(PostgresServer postgres) : JournalCheckSpec(postgres);
