using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Orchestrator.Master.Store.Encryption;

namespace Orchestrator.Master.Store.Persistence;

/// <summary>What to do with corrupt records found at start-up (<c>--store-recovery</c>).</summary>
public enum StoreRecovery
{
    /// <summary>Refuse to start: the error names the file and the record.</summary>
    None,

    /// <summary>Drop corrupt journal records and snapshots (their changes are lost) and start with the rest.</summary>
    SkipCorrupt,
}

/// <summary>The outcome of <see cref="JournalCheck"/>: a one-line error, or the records it dropped.</summary>
internal sealed record JournalCheckResult(string? Error, IReadOnlyList<string> Skipped)
{
    public static JournalCheckResult Ok { get; } = new(null, []);
}

/// <summary>
/// Reads every record recovery will read — the newest snapshot and the journal records after it — before the store
/// starts, as recovery will (checksum, record JSON, decryption, object JSON, sequence number), so a damaged file or
/// database stops the master with one line naming it and the record instead of a store that never becomes ready.
/// SQLite's own structure is checked with <c>PRAGMA quick_check</c>; a damaged page cannot be skipped, only salvaged
/// (the error says how). With <see cref="StoreRecovery.SkipCorrupt"/> corrupt journal records are marked deleted
/// (recovery passes over them) and a corrupt snapshot is removed (recovery then starts from the journal).
/// </summary>
internal sealed class JournalCheck(JournalDatabase database, StorageTransformer transformer, Func<string, bool> isKnownResource)
{
    public const string PersistenceId = "object-store";
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    public JournalCheckResult Run(StoreRecovery recovery)
    {
        if (!database.Exists()) return JournalCheckResult.Ok;
        var skipped = new List<string>();
        long lastGood = 0;
        try
        {
            using var connection = database.Open();
            if (!database.HasJournal(connection)) return JournalCheckResult.Ok;
            var structure = database.CheckStructure(connection);
            var snapshotSequence = CheckSnapshots(connection, recovery, skipped, out var snapshotError);
            if (snapshotError is not null) return new JournalCheckResult(snapshotError, skipped);
            lastGood = snapshotSequence;
            var journalError = CheckJournal(connection, snapshotSequence, recovery, skipped, ref lastGood);
            if (journalError is not null) return new JournalCheckResult(journalError, skipped);
            if (structure is not null)
                return new JournalCheckResult(DamagedFile(structure, lastGood), skipped);
            return new JournalCheckResult(null, skipped);
        }
        catch (JournalUnavailableException e)
        {
            return new JournalCheckResult(e.Message, skipped);
        }
        catch (NoProviderException e)
        {
            return new JournalCheckResult($"{database.Name}: {e.Message}; --store-recovery cannot help: start with the key that wrote them", skipped);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            return new JournalCheckResult(DamagedFile(e.Message, lastGood), skipped);
        }
        catch (DbException e)
        {
            return new JournalCheckResult($"{database.Name}: cannot read the store's database: {OneLine(e.Message)}", skipped);
        }
    }

    private string DamagedFile(string problem, long lastGood) =>
        $"{database.Name}: the database file is damaged ({OneLine(problem)}); journal records are readable through " +
        $"sequence number {lastGood}. --store-recovery=skip-corrupt cannot repair a damaged file: restore a backup, or " +
        $"salvage what SQLite can read with `sqlite3 {database.Name} .recover | sqlite3 {database.Name}.recovered` and start " +
        $"with {database.Name}.recovered moved in its place";

    /// <summary>Checks the newest snapshot (the one recovery loads), dropping corrupt ones when allowed. Returns
    /// its sequence number (0 without one).</summary>
    private long CheckSnapshots(DbConnection connection, StoreRecovery recovery, List<string> skipped, out string? error)
    {
        error = null;
        while (true)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT sequence_number, snapshot, manifest, serializer_id FROM snapshot " +
                                  "WHERE persistence_id = @id ORDER BY sequence_number DESC LIMIT 1";
            Parameter(command, "@id", PersistenceId);
            long sequence;
            string? problem;
            using (var reader = command.ExecuteReader())
            {
                if (!reader.Read()) return 0;
                sequence = reader.GetInt64(0);
                problem = Problem(sequence, reader.IsDBNull(1) ? [] : (byte[])reader[1], reader.IsDBNull(2) ? "" : reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetInt32(3), snapshot: true);
            }
            if (problem is null) return sequence;
            if (recovery != StoreRecovery.SkipCorrupt)
            {
                error = $"{database.Name}: the snapshot at sequence number {sequence} is corrupt: {problem}. Restore the {database.Noun} " +
                        "from a backup, or start with --store-recovery=skip-corrupt to drop it (every object it holds " +
                        "that no later journal record rewrites is lost)";
                return sequence;
            }
            using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM snapshot WHERE persistence_id = @id AND sequence_number = @seq";
            Parameter(delete, "@id", PersistenceId);
            Parameter(delete, "@seq", sequence);
            delete.ExecuteNonQuery();
            skipped.Add($"dropped the corrupt snapshot at sequence number {sequence}: {problem}");
        }
    }

    private string? CheckJournal(DbConnection connection, long after, StoreRecovery recovery, List<string> skipped, ref long lastGood)
    {
        var corrupt = new List<(long Ordering, long Sequence, string Problem)>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT ordering, sequence_number, message, manifest, identifier FROM journal " +
                                  "WHERE persistence_id = @id AND deleted = @no AND sequence_number > @after ORDER BY sequence_number";
            Parameter(command, "@id", PersistenceId);
            Parameter(command, "@after", after);
            Parameter(command, "@no", false);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var sequence = reader.GetInt64(1);
                var problem = Problem(sequence, (byte[])reader[2], reader.IsDBNull(3) ? "" : reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetInt32(4), snapshot: false);
                if (problem is null)
                {
                    lastGood = sequence;
                    continue;
                }
                if (recovery != StoreRecovery.SkipCorrupt)
                    return $"{database.Name}: journal record {sequence} is corrupt: {problem}. Restore the {database.Noun} from a backup, " +
                           "or start with --store-recovery=skip-corrupt to drop the corrupt records (their changes are lost)";
                corrupt.Add((reader.GetInt64(0), sequence, problem));
            }
        }
        foreach (var (ordering, sequence, problem) in corrupt)
        {
            using var mark = connection.CreateCommand();
            mark.CommandText = "UPDATE journal SET deleted = @yes WHERE ordering = @ordering";
            Parameter(mark, "@ordering", ordering);
            Parameter(mark, "@yes", true);
            mark.ExecuteNonQuery();
            skipped.Add($"dropped the corrupt journal record {sequence}: {problem}");
        }
        return null;
    }

    /// <summary>Why the record cannot be recovered, or null when it can.</summary>
    private string? Problem(long sequence, byte[] bytes, string manifest, int? serializer, bool snapshot)
    {
        if (serializer != StoreRecordSerializer.Id) return $"it was written by serializer {serializer?.ToString() ?? "(none)"}, not the store's";
        IStoreRecord record;
        try
        {
            record = StoreRecordSerializer.Decode(bytes, manifest);
        }
        catch (Exception e) when (e is System.Runtime.Serialization.SerializationException or JsonException or NotSupportedException)
        {
            return OneLine(e.Message);
        }
        switch (record)
        {
            case StoreSnapshot s when snapshot:
                if (s.ResourceVersion != sequence) return $"it says resourceVersion {s.ResourceVersion}";
                foreach (var o in s.Objects)
                    if (ObjectProblem(o.Resource, o.Json) is { } p) return p;
                return null;
            case ObjectPut put when !snapshot:
                return put.ResourceVersion != sequence ? $"it says resourceVersion {put.ResourceVersion}" : ObjectProblem(put.Resource, put.Json);
            case ObjectRemoved removed when !snapshot:
                if (removed.ResourceVersion != sequence) return $"it says resourceVersion {removed.ResourceVersion}";
                return isKnownResource(removed.Resource) ? null : $"unknown resource \"{removed.Resource}\"";
            case JournalProbe when !snapshot:
                return null;
            default:
                return $"unexpected record \"{manifest}\"";
        }
    }

    private string? ObjectProblem(string resource, string stored) => ObjectProblem(resource, Encoding.UTF8.GetBytes(stored));

    private string? ObjectProblem(string resource, byte[] stored)
    {
        if (!isKnownResource(resource)) return $"unknown resource \"{resource}\"";
        byte[] json;
        try
        {
            json = transformer.FromStorage(resource, stored, out _);
        }
        catch (CryptographicException e) when (e is not NoProviderException)
        {
            return $"{resource}: {OneLine(e.Message)}";
        }
        try
        {
            var reader = new Utf8JsonReader(json);
            while (reader.Read()) { }
            return reader.BytesConsumed == 0 ? $"{resource}: the object is empty" : null;
        }
        catch (JsonException e)
        {
            return $"{resource}: the object is not JSON ({OneLine(e.Message)})";
        }
    }

    private static void Parameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static string OneLine(string text) => string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
