using Akka.Actor;
using Akka.Event;
using Orchestrator.Master.Store.Encryption;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store.Persistence;

/// <summary>
/// The ObjectStore's journal on the SQLite file: a plain actor, child of the store, that reads the journal back, persists
/// the batches its parent sends, saves snapshots and compacts behind them, all with <see cref="SqliteJournal"/>
/// (Microsoft.Data.Sqlite on Akka.Persistence.Sql's tables and rows; neither it nor linq2db is loaded). It speaks the
/// store's journal protocol (JournalProtocol.cs) as <see cref="JournalWriter"/> does on PostgreSQL, and keeps its rules:
/// a writer that fails tells its parent why and stops; one that replaces a failed one (<c>resumeAfter</c> set) reads no
/// snapshot and replays only the records above the parent's resourceVersion; every writer stores a
/// <see cref="JournalProbe"/> before it reports the journal writable; a batch is durable before
/// <see cref="RecordsPersisted"/> is sent. It alone applies the encryption provider config, on the way in and out.
/// </summary>
internal sealed class SqliteJournalWriter : ReceiveActor
{
    private const int ReplayChunk = 500;
    private static readonly TimeSpan CompactionOnStop = TimeSpan.FromSeconds(10);

    private readonly StoredValues _values;
    private readonly long? _resumeAfter;
    private readonly SqliteJournalFile _file;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private SqliteJournal? _journal;
    private long _last;
    private bool _compacting;
    private long _compactingAt;
    private SnapshotEncoded? _waiting;
    private Task _compaction = Task.CompletedTask;

    public static Props Props(StorageTransformer transformer, long? resumeAfter, SqliteJournalFile file) =>
        Akka.Actor.Props.Create(() => new SqliteJournalWriter(transformer, resumeAfter, file));

    public SqliteJournalWriter(StorageTransformer transformer, long? resumeAfter, SqliteJournalFile file)
    {
        _values = new StoredValues(transformer);
        _resumeAfter = resumeAfter;
        _file = file;
        Receive<Recover>(_ => RecoverThenProbe());
        Receive<PersistRecords>(Write);
        Receive<SaveStoreSnapshot>(Snapshot);
        Receive<SnapshotEncoded>(Compact);
        Receive<SnapshotNotEncoded>(f =>
            _log.Warning("Encoding the snapshot at {0} failed ({1}); recovery will replay more records", f.ResourceVersion, f.Error.Message));
        Receive<Compacted>(OnCompacted);
    }

    protected override void PreStart() => Self.Tell(Recover.Instance);

    protected override void PostStop()
    {
        // A compaction under way finishes before the writer is gone (a stop in the middle would leave its snapshot unsaved;
        // each step is a transaction, so nothing would be half done, but the next start would replay more).
        try
        {
            if (!_compaction.Wait(CompactionOnStop))
                _log.Warning("The compaction at {0} did not finish within {1} s of the journal writer's stop", _compactingAt, CompactionOnStop.TotalSeconds);
        }
        catch (AggregateException e)
        {
            _log.Warning("The compaction at {0} failed: {1}", _compactingAt, Reason(e));
        }
        _journal?.Dispose();
        _journal = null;
    }

    private sealed record Recover
    {
        public static Recover Instance { get; } = new();
    }

    /// <summary>Reads the newest snapshot (unless resuming) and the records after it, in chunks to the parent, then
    /// stores the probe.</summary>
    private void RecoverThenProbe()
    {
        var parent = Context.Parent;
        long last;
        try
        {
            _journal = new SqliteJournal(_file.ConnectionString, JournalCheck.PersistenceId);
            long from = _resumeAfter ?? 0, snapshotAt = 0;
            if (_resumeAfter is null && _journal.NewestSnapshot() is { } newest)
            {
                var snapshot = newest.Snapshot;
                parent.Tell(new JournalSnapshotLoaded(snapshot with { Objects = snapshot.Objects.Select(_values.FromStorage).ToList() }));
                from = snapshotAt = newest.SequenceNr;
            }
            var replayed = new List<IStoreRecord>();
            foreach (var record in _journal.Records(after: from))
            {
                switch (record)
                {
                    case ObjectPut put:
                        replayed.Add(put with { Json = _values.FromStorage(put.Resource, put.Json) });
                        break;
                    case ObjectRemoved removed:
                        replayed.Add(removed);
                        break;
                }
                if (replayed.Count < ReplayChunk) continue;
                parent.Tell(new JournalRecordsReplayed(replayed));
                replayed = [];
            }
            if (replayed.Count > 0) parent.Tell(new JournalRecordsReplayed(replayed));
            // The journal's highest sequence number (a compacted journal keeps its last deleted row for it), or the snapshot's.
            last = Math.Max(snapshotAt, _journal.HighestSequenceNr());
        }
        catch (Exception e)
        {
            Fail($"recovery failed: {Reason(e)}");
            return;
        }
        parent.Tell(new JournalRecovered(last, _values.RewriteNeeded));
        _last = last;
        if (!Append([new JournalProbe(DateTime.UtcNow)])) return;
        parent.Tell(new JournalWritable(_last));
    }

    private void Write(PersistRecords command)
    {
        var first = command.Records.Select(StoredValues.ResourceVersionOf).FirstOrDefault(rv => rv > 0);
        if (first != 0 && first != _last + 1)
        {
            Fail($"the store stamped resourceVersion {first} but the journal is at {_last}");
            return;
        }
        if (Append(command.Records.Select(_values.ToStorage).ToList())) Context.Parent.Tell(new RecordsPersisted(_last));
    }

    /// <summary>Stores the records with the next sequence numbers, one per record. False when the file refused them
    /// (nothing stored: the transaction rolled back): the writer has told its parent and stops.</summary>
    private bool Append(IReadOnlyList<IStoreRecord> records)
    {
        var rows = records.Select((r, i) => new JournalRow(_last + 1 + i, StoreRecordSerializer.ManifestOf(r), StoreRecordSerializer.Encode(r))).ToList();
        try
        {
            _journal!.Append(rows);
        }
        catch (Exception e)
        {
            Context.Parent.Tell(new JournalFailed(Reason(e)));
            _log.Error("Writing journal records {0}-{1} failed: {2}", _last + 1, _last + rows.Count, Reason(e));
            Context.Stop(Self);
            return false;
        }
        _last += rows.Count;
        return true;
    }

    private void Snapshot(SaveStoreSnapshot command)
    {
        // A snapshot is only meaningful at exactly the state it describes.
        if (command.ResourceVersion != _last)
        {
            _log.Warning("Not saving a snapshot at {0}: the journal is at {1}", command.ResourceVersion, _last);
            return;
        }
        // Encoding every object takes long enough (tens of ms per thousand objects) to stall the batches behind it, so it
        // runs on the thread pool; the snapshot is then saved with the sequence number it was taken at, wherever the
        // journal is by then (records above it are replayed after it, as after any snapshot).
        var taken = DateTime.UtcNow;
        Task.Run(() => command.Objects.Select(o => new SnapshotObject(o.Resource, KubeObjects.Serialize(o.Object))).ToList())
            .PipeTo(Self, success: objects => new SnapshotEncoded(command.ResourceVersion, taken, objects),
                failure: e => new SnapshotNotEncoded(command.ResourceVersion, e));
    }

    /// <summary>The stored values go through the encryption provider config here, on the writer (it alone uses the
    /// transformer); saving, deleting behind the snapshot and shrinking the file run off it, on a connection of their own,
    /// one compaction at a time (a snapshot asked for meanwhile waits, and only the newest one).</summary>
    private void Compact(SnapshotEncoded encoded)
    {
        if (_compacting)
        {
            _waiting = encoded;
            return;
        }
        _compacting = true;
        _compactingAt = encoded.SequenceNr;
        var snapshot = new StoreSnapshot(encoded.Objects.Select(_values.ToStorage).ToList(),
            encoded.SequenceNr);
        var file = _file;
        var compaction = Task.Run(() =>
        {
            string? failed;
            using (var journal = new SqliteJournal(file.ConnectionString, JournalCheck.PersistenceId))
                failed = journal.SaveSnapshotAndCompact(encoded.SequenceNr, snapshot, encoded.Taken);
            if (failed is not null) return new Compacted(encoded.SequenceNr, 0, failed, null);
            try
            {
                file.Shrink();
                return new Compacted(encoded.SequenceNr, file.Bytes(), null, null);
            }
            catch (Exception e)
            {
                return new Compacted(encoded.SequenceNr, file.Bytes(), null, e.Message);
            }
        });
        _compaction = compaction;
        compaction.PipeTo(Self, failure: e => new Compacted(encoded.SequenceNr, 0, $"Saving a snapshot failed: {Reason(e)}", null));
    }

    private void OnCompacted(Compacted compacted)
    {
        _compacting = false;
        if (compacted.Failed is not null) _log.Warning("{0}; recovery will replay more records", compacted.Failed);
        else
        {
            if (compacted.ShrinkError is not null) _log.Warning("Compacting {0} failed: {1}", _file.Name, compacted.ShrinkError);
            Context.Parent.Tell(new JournalCompacted(compacted.SequenceNr, compacted.Bytes));
        }
        if (_waiting is { } next)
        {
            _waiting = null;
            Compact(next);
        }
    }

    private sealed record SnapshotEncoded(long SequenceNr, DateTime Taken, List<SnapshotObject> Objects);
    private sealed record SnapshotNotEncoded(long ResourceVersion, Exception Error);

    /// <summary>A compaction's outcome: <see cref="Failed"/> names the step that failed (snapshot or deletes);
    /// a file that could not shrink is compacted all the same.</summary>
    private sealed record Compacted(long SequenceNr, long Bytes, string? Failed, string? ShrinkError);

    private void Fail(string reason) => StoredValues.Fail(Context, _log, reason);

    private static string Reason(Exception e) => StoredValues.Reason(e);
}
