using Microsoft.Data.Sqlite;

namespace Orchestrator.Master.Store.Persistence;

/// <summary>One journal row as Akka.Persistence.Sql writes it for the store's persistenceId.</summary>
internal readonly record struct JournalRow(long SequenceNr, string Manifest, byte[] Message);

/// <summary>The newest snapshot row: its sequence number and the record it holds.</summary>
internal sealed record SnapshotRow(long SequenceNr, StoreSnapshot Snapshot);

/// <summary>
/// The store's journal and snapshot tables in the SQLite file, read and written straight with Microsoft.Data.Sqlite on one
/// open connection (secure_delete, synchronous=FULL, as every connection of the file has). The tables, columns and values
/// are Akka.Persistence.Sql's (created in ticks, deleted 0, the serializer's manifest and id, a writer uuid; snapshots
/// replaced by sequence number; deletes that keep the highest deleted row as the sequence number's marker), so files it
/// wrote recover unchanged and <see cref="JournalCheck"/> reads both alike. Going through it cost the master's start
/// about 2 s of loading and first use (linq2db's query building, Akka.Persistence.Sql's reads) for a few dozen records,
/// and each batch crossed the journal actor, an Akka.Streams queue and linq2db's bulk copy.
/// Appends are one transaction per batch — one fsync of the WAL at its commit, before <see cref="Append"/> returns.
/// </summary>
internal sealed class SqliteJournal : IDisposable
{
    // As Akka.Persistence.Sql (through linq2db) creates them, so a new file is the same as one it made.
    private const string Tables = """
        CREATE TABLE IF NOT EXISTS [journal]
        (
        	[ordering]        INTEGER        NOT NULL PRIMARY KEY AUTOINCREMENT,
        	[created]         INTEGER        NOT NULL,
        	[deleted]         Bit            NOT NULL,
        	[persistence_id]  NVarChar(255)  NOT NULL,
        	[sequence_number] INTEGER        NOT NULL,
        	[message]         VarBinary      NOT NULL,
        	[manifest]        NVarChar(500)      NULL,
        	[identifier]      INTEGER            NULL,
        	[writer_uuid]     NVarChar(128)      NULL
        );
        CREATE TABLE IF NOT EXISTS [snapshot]
        (
        	[persistence_id]  NVarChar(255) NOT NULL,
        	[sequence_number] INTEGER       NOT NULL,
        	[created]         INTEGER       NOT NULL,
        	[snapshot]        VarBinary         NULL,
        	[manifest]        NVarChar(500)     NULL,
        	[serializer_id]   INTEGER           NULL,

        	CONSTRAINT [PK_snapshot] PRIMARY KEY ([persistence_id], [sequence_number])
        );
        CREATE TABLE IF NOT EXISTS [tags]
        (
        	[ordering_id]    INTEGER       NOT NULL,
        	[tag]            NVarChar(64)  NOT NULL,
        	[sequence_nr]    INTEGER       NOT NULL,
        	[persistence_id] NVarChar(255) NOT NULL,

        	CONSTRAINT [PK_tags] PRIMARY KEY ([ordering_id], [tag])
        );
        """;

    private readonly SqliteConnection _connection;
    private readonly string _persistenceId;
    private readonly string _writerUuid = Guid.NewGuid().ToString("N");
    private SqliteCommand? _insert;
    private SqliteParameter _created = null!, _sequenceNr = null!, _message = null!, _manifest = null!;

    /// <summary>Opens the file and creates the tables it lacks (a new data directory).</summary>
    public SqliteJournal(string connectionString, string persistenceId)
    {
        _persistenceId = persistenceId;
        _connection = new SqliteConnection(connectionString);
        try
        {
            _connection.Open();
            Execute(SqliteJournalFile.PragmaStatements);
            Execute(Tables);
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>The newest snapshot, or null. Throws <see cref="System.Runtime.Serialization.SerializationException"/>
    /// (or a JSON error) when it cannot be read.</summary>
    public SnapshotRow? NewestSnapshot()
    {
        using var command = Command("SELECT sequence_number, snapshot, manifest, serializer_id FROM snapshot " +
                                    "WHERE persistence_id = @id ORDER BY sequence_number DESC LIMIT 1");
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        var record = Decode(reader.IsDBNull(1) ? [] : (byte[])reader[1], reader.IsDBNull(2) ? "" : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetInt32(3));
        return record is StoreSnapshot snapshot
            ? new SnapshotRow(reader.GetInt64(0), snapshot)
            : throw new System.Runtime.Serialization.SerializationException($"the snapshot at {reader.GetInt64(0)} holds a \"{reader.GetString(2)}\" record");
    }

    /// <summary>The journal's records above <paramref name="after"/> that are not deleted, in order, read as they are
    /// enumerated (one statement: a consistent view of the file).</summary>
    public IEnumerable<IStoreRecord> Records(long after)
    {
        using var command = Command("SELECT message, manifest, identifier FROM journal " +
                                    "WHERE persistence_id = @id AND deleted = 0 AND sequence_number > @after ORDER BY sequence_number");
        command.Parameters.AddWithValue("@after", after);
        using var reader = command.ExecuteReader();
        while (reader.Read())
            yield return Decode((byte[])reader[0], reader.IsDBNull(1) ? "" : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt32(2));
    }

    /// <summary>The highest sequence number the journal has given, deleted rows included (0 for none).</summary>
    public long HighestSequenceNr()
    {
        using var command = Command("SELECT MAX(sequence_number) FROM journal WHERE persistence_id = @id");
        return command.ExecuteScalar() is long highest ? highest : 0;
    }

    /// <summary>Stores the rows in one transaction; when this returns they are durable. Throws (nothing stored) when the
    /// file refuses them.</summary>
    public void Append(IReadOnlyList<JournalRow> rows)
    {
        var insert = _insert ??= PrepareInsert();
        using var transaction = _connection.BeginTransaction();
        insert.Transaction = transaction;
        // one timestamp per batch, as Akka.Persistence.Sql stamps an atomic write
        _created.Value = DateTime.UtcNow.Ticks;
        foreach (var row in rows)
        {
            _sequenceNr.Value = row.SequenceNr;
            _message.Value = row.Message;
            _manifest.Value = row.Manifest;
            insert.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    /// <summary>Saves the snapshot at <paramref name="sequenceNr"/> (replacing one at the same number), then deletes the
    /// journal records up to it and the older snapshots, each step its own transaction as Akka.Persistence.Sql took them.
    /// Returns null, or which step failed and why (the steps after it are not taken).</summary>
    public string? SaveSnapshotAndCompact(long sequenceNr, StoreSnapshot snapshot, DateTime taken)
    {
        var step = "Saving a snapshot failed";
        try
        {
            using (var save = Command("INSERT OR REPLACE INTO snapshot (persistence_id, sequence_number, created, snapshot, manifest, serializer_id) " +
                                      "VALUES (@id, @seq, @created, @snapshot, @manifest, @serializer)"))
            {
                save.Parameters.AddWithValue("@seq", sequenceNr);
                save.Parameters.AddWithValue("@created", taken.Ticks);
                save.Parameters.Add("@snapshot", SqliteType.Blob).Value = StoreRecordSerializer.Encode(snapshot);
                save.Parameters.AddWithValue("@manifest", StoreRecordSerializer.ManifestOf(snapshot));
                save.Parameters.AddWithValue("@serializer", StoreRecordSerializer.Id);
                save.ExecuteNonQuery();
            }
            step = "Deleting journal records behind the snapshot failed";
            using (var transaction = _connection.BeginTransaction())
            {
                // Marked deleted, then removed except the highest marked row, which keeps the journal's sequence number
                // when nothing follows it.
                using (var mark = Command("UPDATE journal SET deleted = 1 WHERE persistence_id = @id AND sequence_number <= @seq", transaction))
                {
                    mark.Parameters.AddWithValue("@seq", sequenceNr);
                    mark.ExecuteNonQuery();
                }
                using (var delete = Command(
                           "DELETE FROM journal WHERE persistence_id = @id AND sequence_number <= @seq AND sequence_number < " +
                           "(SELECT COALESCE(MAX(sequence_number), 0) FROM journal WHERE persistence_id = @id AND deleted = 1)", transaction))
                {
                    delete.Parameters.AddWithValue("@seq", sequenceNr);
                    delete.ExecuteNonQuery();
                }
                transaction.Commit();
            }
            step = "Deleting older snapshots failed";
            using (var older = Command("DELETE FROM snapshot WHERE persistence_id = @id AND sequence_number <= @before"))
            {
                older.Parameters.AddWithValue("@before", sequenceNr - 1);
                older.ExecuteNonQuery();
            }
            return null;
        }
        catch (Exception e) when (e is SqliteException or InvalidOperationException or IOException)
        {
            return $"{step}: {e.Message}";
        }
    }

    private static IStoreRecord Decode(byte[] bytes, string manifest, int? serializer) =>
        serializer == StoreRecordSerializer.Id
            ? StoreRecordSerializer.Decode(bytes, manifest)
            : throw new System.Runtime.Serialization.SerializationException(
                $"a record written by serializer {serializer?.ToString() ?? "(none)"}, not the store's");

    private SqliteCommand PrepareInsert()
    {
        var insert = _connection.CreateCommand();
        insert.CommandText =
            "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) " +
            "VALUES (@created, 0, @persistence_id, @sequence_number, @message, @manifest, @identifier, @writer_uuid)";
        _created = insert.Parameters.Add("@created", SqliteType.Integer);
        insert.Parameters.AddWithValue("@persistence_id", _persistenceId);
        _sequenceNr = insert.Parameters.Add("@sequence_number", SqliteType.Integer);
        _message = insert.Parameters.Add("@message", SqliteType.Blob);
        _manifest = insert.Parameters.Add("@manifest", SqliteType.Text);
        insert.Parameters.AddWithValue("@identifier", StoreRecordSerializer.Id);
        insert.Parameters.AddWithValue("@writer_uuid", _writerUuid);
        return insert;
    }

    private SqliteCommand Command(string sql, SqliteTransaction? transaction = null)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.Parameters.AddWithValue("@id", _persistenceId);
        return command;
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _insert?.Dispose();
        _connection.Dispose();
    }
}
