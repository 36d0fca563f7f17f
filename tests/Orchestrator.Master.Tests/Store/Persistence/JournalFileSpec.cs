using Orchestrator.Master.Registry;
using System.Text;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Encryption;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Master.Tests.Store.Support;
using Xunit;

namespace Orchestrator.Master.Tests.Store.Persistence;

/// <summary>What is on disk: who may read it, what a compacted journal still holds, what encryption hides.</summary>
public sealed class JournalFileSpec : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "journal-file-" + Guid.NewGuid().ToString("N"));

    private StoreOptions Options(int snapshotEvery = 1000, EncryptionConfiguration? encryption = null) =>
        new(_dataDirectory)
        {
            Settings = new ObjectStoreSettings(SnapshotEvery: snapshotEvery),
            Encryption = encryption ?? EncryptionConfiguration.None,
        };

    private string DatabasePath => Path.Combine(_dataDirectory, "store.db");

    private static V1Secret Secret(string name, string value) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Data = new Dictionary<string, byte[]> { ["token"] = Encoding.UTF8.GetBytes(value) },
    };

    /// <summary>How a Secret's value appears in its JSON: base64.</summary>
    private static string AsStored(string value) => Convert.ToBase64String(Encoding.UTF8.GetBytes(value));

    private static EncryptionConfiguration Keys(params string[] names) => EncryptionConfiguration.Parse($$"""
        apiVersion: apiserver.config.k8s.io/v1
        kind: EncryptionConfiguration
        resources:
          - resources: [secrets]
            providers:
              - aesgcm:
                  keys:
        {{string.Concat(names.Select(n => $"              - name: {n}\n                secret: {Convert.ToBase64String(Encoding.UTF8.GetBytes(n.PadRight(32, '*')))}\n"))}}
              - identity: {}
        """);

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task The_data_directory_and_the_database_files_are_private_from_creation()
    {
        Assert.Null(ObjectStoreHosting.PrepareStore(Options(), RegistryHosting.BuiltInCatalog(), _ => { }));
        await using (var host = await StoreHost.StartAsync(Options()))
        {
            await host.Ask<ObjectStored>(new CreateObject("configmaps", Objects.ConfigMap("c")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_dataDirectory));
            foreach (var file in new[] { "store.db", "store.db-wal", "store.db-shm" })
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dataDirectory, file)));
        }
        // Any file made in the directory afterwards (keys, tokens) is private from the moment it exists.
        var later = Path.Combine(_dataDirectory, "later");
        await File.WriteAllTextAsync(later, "x");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(later));
    }

    [Fact]
    public async Task A_deleted_secret_is_gone_from_the_file_once_the_journal_is_compacted()
    {
        var value = "doomed-" + Guid.NewGuid().ToString("N");
        await using var host = await StoreHost.StartAsync(Options(snapshotEvery: 20));
        await host.Ask<ObjectStored>(new CreateObject("secrets", Secret("doomed", value)));
        Assert.True(StoreHost.Contains(StoreHost.FileBytes(DatabasePath), AsStored(value)), "the secret was written in the clear");

        await host.Ask<ObjectStored>(new DeleteObject(new ResourceKey("secrets", "default", "doomed")));
        for (var i = 0; i < 25; i++) await host.Ask<ObjectStored>(new CreateObject("configmaps", Objects.ConfigMap($"c{i}")));

        await Until(() => !StoreHost.Contains(StoreHost.FileBytes(DatabasePath), AsStored(value)),
            "the deleted secret is no longer in store.db or its WAL");
    }

    /// <summary>The store appends its batches to the file itself (SqliteJournalAppender), not through Akka.Persistence.Sql:
    /// the rows must be the ones Akka.Persistence.Sql reads back, deletes behind a snapshot and the start-up check passes.</summary>
    [Fact]
    public async Task Batches_appended_to_the_file_are_read_back_after_a_restart_and_compacted_behind_a_snapshot()
    {
        var versions = new Dictionary<string, string>();
        await using (var host = await StoreHost.StartAsync(Options()))
        {
            // concurrent writes: group commit stores several records per transaction
            var stored = await Task.WhenAll(Enumerable.Range(0, 40)
                .Select(i => host.Ask<ObjectStored>(new CreateObject("configmaps", Objects.ConfigMap($"c{i}")))));
            foreach (var s in stored) versions[s.Object.Metadata.Name] = s.Object.Metadata.ResourceVersion;
        }
        var rows = JournalRows();
        Assert.Equal(Enumerable.Range(1, rows.Count).Select(i => (long)i), rows.Select(r => r.SequenceNr));
        Assert.All(rows, r =>
        {
            Assert.Equal(JournalCheck.PersistenceId, r.PersistenceId);
            Assert.Equal(StoreRecordSerializer.Id, r.Identifier);
            Assert.Equal(0, r.Deleted);
            Assert.False(string.IsNullOrEmpty(r.WriterUuid));
            Assert.InRange(new DateTime(r.Created, DateTimeKind.Utc), DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(1));
        });
        Assert.Equal(40, rows.Count(r => r.Manifest == "put" && versions.ContainsValue(r.SequenceNr.ToString())));
        Assert.Null(ObjectStoreHosting.PrepareStore(Options(), RegistryHosting.BuiltInCatalog(), w => throw new Xunit.Sdk.XunitException(w)));

        await using (var host = await StoreHost.StartAsync(Options(snapshotEvery: 20)))
        {
            foreach (var (name, version) in versions)
            {
                var obj = (await host.Ask<ObjectStored>(new GetObject(new ResourceKey("configmaps", "default", name)))).Object;
                Assert.Equal(version, obj.Metadata.ResourceVersion);
            }
            for (var i = 0; i < 25; i++) await host.Ask<ObjectStored>(new CreateObject("configmaps", Objects.ConfigMap($"d{i}")));
            await Until(() => JournalRows().Count < rows.Count, "the journal is compacted behind a snapshot");
        }
        await using (var host = await StoreHost.StartAsync(Options()))
            for (var i = 0; i < 25; i++)
                await host.Ask<ObjectStored>(new GetObject(new ResourceKey("configmaps", "default", $"d{i}")));
        Assert.Null(ObjectStoreHosting.PrepareStore(Options(), RegistryHosting.BuiltInCatalog(), w => throw new Xunit.Sdk.XunitException(w)));
    }

    /// <summary>A file as Akka.Persistence.Sql left it after a compaction — a snapshot at 5, the journal's row 5 kept
    /// deleted as the marker of its end, a record after it — recovers unchanged through the store's own writer: the
    /// snapshot's objects and the record's (not the deleted row), and the journal goes on after its highest row.</summary>
    [Fact]
    public async Task A_file_compacted_by_Akka_Persistence_Sql_recovers_and_continues_after_its_highest_row()
    {
        Assert.Null(ObjectStoreHosting.PrepareStore(Options(), RegistryHosting.BuiltInCatalog(), _ => { }));
        await using (await StoreHost.StartAsync(Options())) { } // the tables
        static string Json(string name, long version)
        {
            var configMap = Objects.ConfigMap(name);
            configMap.Metadata.ResourceVersion = version.ToString();
            configMap.Metadata.Uid = Guid.NewGuid().ToString();
            configMap.Metadata.CreationTimestamp = DateTime.UtcNow;
            return Orchestrator.Shared.Api.KubeObjects.Serialize(configMap);
        }
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            connection.Open();
            void Run(string sql, params (string Name, object Value)[] parameters)
            {
                using var command = connection.CreateCommand();
                command.CommandText = sql;
                foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
                command.ExecuteNonQuery();
            }
            Run("DELETE FROM journal; DELETE FROM snapshot;");
            var snapshot = new StoreSnapshot([new SnapshotObject("configmaps", Json("old", 4))], 5);
            Run("INSERT INTO snapshot VALUES ('object-store', 5, @created, @bytes, 'snapshot', @id)",
                ("@created", DateTime.UtcNow.Ticks), ("@bytes", StoreRecordSerializer.Encode(snapshot)), ("@id", StoreRecordSerializer.Id));
            foreach (var (sequence, deleted, record) in new (long, int, IStoreRecord)[]
                     { (5, 1, new ObjectPut("configmaps", System.Text.Encoding.UTF8.GetBytes(Json("old", 5)), 5)), (6, 0, new ObjectPut("configmaps", System.Text.Encoding.UTF8.GetBytes(Json("new", 6)), 6)) })
                Run("INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) " +
                    "VALUES (@created, @deleted, 'object-store', @seq, @message, 'put', @id, 'akka')",
                    ("@created", DateTime.UtcNow.Ticks), ("@deleted", deleted), ("@seq", sequence),
                    ("@message", StoreRecordSerializer.Encode(record)), ("@id", StoreRecordSerializer.Id));
        }
        Assert.Null(ObjectStoreHosting.PrepareStore(Options(), RegistryHosting.BuiltInCatalog(), w => throw new Xunit.Sdk.XunitException(w)));

        await using var host = await StoreHost.StartAsync(Options());
        Assert.Equal("4", (await host.Ask<ObjectStored>(new GetObject(new ResourceKey("configmaps", "default", "old")))).Object.Metadata.ResourceVersion);
        Assert.Equal("6", (await host.Ask<ObjectStored>(new GetObject(new ResourceKey("configmaps", "default", "new")))).Object.Metadata.ResourceVersion);
        // the probe takes the next number after the highest row; the deleted row 5 was not replayed over the snapshot's "old" (4)
        Assert.Contains(JournalRows(), r => r.SequenceNr == 7 && r.Manifest == "probe");
        var created = await host.Ask<ObjectStored>(new CreateObject("configmaps", Objects.ConfigMap("later")));
        Assert.True(long.Parse(created.Object.Metadata.ResourceVersion) > 7);
    }

    /// <summary>Text that a JSON string escapes in every way: quotes, HTML-sensitive characters, control characters,
    /// non-ASCII and a character outside the BMP (a surrogate pair).</summary>
    internal const string AwkwardText = "say \"hi\" <b>&amp;'+ \\ / é ü 日本 😀 \n\t end";

    /// <summary>A data directory of a version that carried a record's text as a UTF-16 string — a plain object whose text
    /// the string escaped every way, and a secret stored through the encryption provider config — passes the start-up
    /// check and recovers the same objects; the store then writes after them and reads everything back again.</summary>
    [Fact]
    public async Task Records_written_from_UTF16_strings_by_an_earlier_version_recover_unchanged()
    {
        var encryption = Keys("k1");
        Assert.Null(ObjectStoreHosting.PrepareStore(Options(encryption: encryption), RegistryHosting.BuiltInCatalog(), _ => { }));
        await using (await StoreHost.StartAsync(Options(encryption: encryption))) { } // the tables
        var configMap = Objects.ConfigMap("awkward");
        configMap.Data = new Dictionary<string, string> { ["text"] = AwkwardText };
        configMap.Metadata.ResourceVersion = "1";
        configMap.Metadata.Uid = Guid.NewGuid().ToString();
        var secret = Secret("sealed", AwkwardText);
        secret.Metadata.ResourceVersion = "2";
        secret.Metadata.Uid = Guid.NewGuid().ToString();
        var transformer = new StorageTransformer(encryption, name => ("", name));
        var sealedText = transformer.ToStorage("secrets", Orchestrator.Shared.Api.KubeObjects.Serialize(secret));
        Assert.StartsWith("k8s:enc:aesgcm:v1:k1:", sealedText);
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM journal; DELETE FROM snapshot; " +
                                  "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) VALUES " +
                                  "(@created, 0, 'object-store', 1, @first, 'put', @id, 'old'), (@created, 0, 'object-store', 2, @second, 'put', @id, 'old')";
            command.Parameters.AddWithValue("@created", DateTime.UtcNow.Ticks);
            command.Parameters.AddWithValue("@first", StoreRecordSerializerTests.EncodedAsString("configmaps", Orchestrator.Shared.Api.KubeObjects.Serialize(configMap), 1));
            command.Parameters.AddWithValue("@second", StoreRecordSerializerTests.EncodedAsString("secrets", sealedText, 2));
            command.Parameters.AddWithValue("@id", StoreRecordSerializer.Id);
            command.ExecuteNonQuery();
        }
        Assert.Null(ObjectStoreHosting.PrepareStore(Options(encryption: encryption), RegistryHosting.BuiltInCatalog(), w => throw new Xunit.Sdk.XunitException(w)));

        for (var start = 0; start < 2; start++)
        {
            await using var host = await StoreHost.StartAsync(Options(encryption: encryption));
            var readConfigMap = (V1ConfigMap)(await host.Ask<ObjectStored>(new GetObject(new ResourceKey("configmaps", "default", "awkward")))).Object;
            Assert.Equal(AwkwardText, readConfigMap.Data["text"]);
            Assert.Equal("1", readConfigMap.Metadata.ResourceVersion);
            var readSecret = (V1Secret)(await host.Ask<ObjectStored>(new GetObject(new ResourceKey("secrets", "default", "sealed")))).Object;
            Assert.Equal(AwkwardText, Encoding.UTF8.GetString(readSecret.Data["token"]));
            if (start == 0)
            {
                // written now, as UTF-8: read back by the next start with the old records
                var later = Objects.ConfigMap("later");
                later.Data = new Dictionary<string, string> { ["text"] = AwkwardText };
                await host.Ask<ObjectStored>(new CreateObject("configmaps", later));
                await host.Ask<ObjectStored>(new CreateObject("secrets", Secret("later", AwkwardText)));
            }
            else
            {
                var readLater = (V1ConfigMap)(await host.Ask<ObjectStored>(new GetObject(new ResourceKey("configmaps", "default", "later")))).Object;
                Assert.Equal(AwkwardText, readLater.Data["text"]);
                var laterSecret = (V1Secret)(await host.Ask<ObjectStored>(new GetObject(new ResourceKey("secrets", "default", "later")))).Object;
                Assert.Equal(AwkwardText, Encoding.UTF8.GetString(laterSecret.Data["token"]));
            }
        }
        Assert.Null(ObjectStoreHosting.PrepareStore(Options(encryption: encryption), RegistryHosting.BuiltInCatalog(), w => throw new Xunit.Sdk.XunitException(w)));
        // the secret written now is encrypted on disk as the old one was
        Assert.False(StoreHost.Contains(StoreHost.FileBytes(DatabasePath), AsStored(AwkwardText)), "a secret was written in the clear");
    }

    private sealed record Row(long SequenceNr, string PersistenceId, string Manifest, int Identifier, long Deleted, string? WriterUuid, long Created);

    private List<Row> JournalRows()
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence_number, persistence_id, manifest, identifier, deleted, writer_uuid, created FROM journal ORDER BY ordering";
        using var reader = command.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read())
            rows.Add(new Row(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt64(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetInt64(6)));
        return rows;
    }

    [Fact]
    public async Task Secrets_are_encrypted_at_rest_and_read_back_after_a_restart()
    {
        var value = "hidden-" + Guid.NewGuid().ToString("N");
        var visible = "visible-" + Guid.NewGuid().ToString("N");
        await using (var host = await StoreHost.StartAsync(Options(encryption: Keys("key1"))))
        {
            await host.Ask<ObjectStored>(new CreateObject("secrets", Secret("s", value)));
            var configMap = Objects.ConfigMap("plain");
            configMap.Data["k"] = visible;
            await host.Ask<ObjectStored>(new CreateObject("configmaps", configMap));
        }
        var bytes = StoreHost.FileBytes(DatabasePath);
        Assert.True(StoreHost.Contains(bytes, visible), "configmaps are not encrypted, so the file is the one written");
        Assert.True(StoreHost.Contains(bytes, "k8s:enc:aesgcm:v1:key1:"));
        Assert.False(StoreHost.Contains(bytes, AsStored(value)));
        Assert.False(StoreHost.Contains(bytes, value));

        await using (var host = await StoreHost.StartAsync(Options(encryption: Keys("key1"))))
        {
            var secret = (V1Secret)(await host.Ask<ObjectStored>(new GetObject(new ResourceKey("secrets", "default", "s")))).Object;
            Assert.Equal(value, Encoding.UTF8.GetString(secret.Data["token"]));
        }
    }

    [Fact]
    public async Task A_new_first_key_rewrites_every_secret_and_the_old_key_can_then_go()
    {
        var value = "rotated-" + Guid.NewGuid().ToString("N");
        await using (var host = await StoreHost.StartAsync(Options(encryption: Keys("key1"))))
            await host.Ask<ObjectStored>(new CreateObject("secrets", Secret("s", value)));

        // As with kube-apiserver: the new key first, the old one still listed to read what it wrote.
        await using (await StoreHost.StartAsync(Options(encryption: Keys("key2", "key1"))))
            await Until(() => !StoreHost.Contains(StoreHost.FileBytes(DatabasePath), "k8s:enc:aesgcm:v1:key1:"),
                "nothing written with key1 is left");
        Assert.True(StoreHost.Contains(StoreHost.FileBytes(DatabasePath), "k8s:enc:aesgcm:v1:key2:"));

        await using (var host = await StoreHost.StartAsync(Options(encryption: Keys("key2"))))
        {
            var secret = (V1Secret)(await host.Ask<ObjectStored>(new GetObject(new ResourceKey("secrets", "default", "s")))).Object;
            Assert.Equal(value, Encoding.UTF8.GetString(secret.Data["token"]));
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
    }
}
