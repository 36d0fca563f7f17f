using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Orchestrator.Master.Store.Encryption;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store.Persistence;

/// <summary>
/// The ObjectStore's journal (persistenceId "object-store") on PostgreSQL, and on the actor system's own journal where the
/// store has no database (tests): a child that persists the records its parent sends through Akka.Persistence,
/// saves its snapshots and compacts behind them, and hands its parent what recovery reads. It owns no state of
/// its own besides the sequence number, and it never answers API requests.
///
/// A writer that fails — a journal write refused (disk full), a recovery that cannot read — tells its parent why
/// and stops; the parent starts a new one with back-off. A new writer that replaces a failed one (<c>resumeAfter</c>
/// set) replays only the records above the parent's resourceVersion (writes that were stored although their
/// write was reported as failed), then every writer persists a <see cref="JournalProbe"/> before it reports the
/// journal writable.
///
/// On the SQLite file the same protocol is kept by <see cref="SqliteJournalWriter"/>, without Akka.Persistence.
/// </summary>
internal sealed class JournalWriter : ReceivePersistentActor
{
    private const int ReplayChunk = 500;

    private readonly StoredValues _values;
    private readonly long? _resumeAfter;
    private readonly JournalDatabase? _file;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<IStoreRecord> _replayed = [];
    private long _compactingTo;
    private bool _shrinking;

    public override string PersistenceId => JournalCheck.PersistenceId;

    public override Recovery Recovery =>
        _resumeAfter is null ? Recovery.Default : new Recovery(SnapshotSelectionCriteria.None);

    public static Props Props(StorageTransformer transformer, long? resumeAfter, JournalDatabase? file) =>
        Akka.Actor.Props.Create(() => new JournalWriter(transformer, resumeAfter, file));

    public JournalWriter(StorageTransformer transformer, long? resumeAfter, JournalDatabase? file)
    {
        _values = new StoredValues(transformer);
        _resumeAfter = resumeAfter;
        _file = file;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is StoreSnapshot snapshot)
                Context.Parent.Tell(new JournalSnapshotLoaded(snapshot with { Objects = snapshot.Objects.Select(_values.FromStorage).ToList() }));
        });
        Recover<IStoreRecord>(Replayed);
        Recover<RecoveryCompleted>(_ =>
        {
            Flush();
            Context.Parent.Tell(new JournalRecovered(LastSequenceNr, _values.RewriteNeeded));
            Persist(new JournalProbe(DateTime.UtcNow), _ => Context.Parent.Tell(new JournalWritable(LastSequenceNr)));
        });

        Command<PersistRecords>(Write);
        Command<SaveStoreSnapshot>(Snapshot);
        Command<SnapshotEncoded>(SaveEncoded);
        Command<SnapshotNotEncoded>(f =>
            _log.Warning("Encoding the snapshot at {0} failed ({1}); recovery will replay more records", f.ResourceVersion, f.Error.Message));
        Command<SaveSnapshotSuccess>(s =>
        {
            _compactingTo = s.Metadata.SequenceNr;
            DeleteMessages(s.Metadata.SequenceNr);
        });
        Command<DeleteMessagesSuccess>(d => DeleteSnapshots(new SnapshotSelectionCriteria(d.ToSequenceNr - 1)));
        Command<DeleteSnapshotsSuccess>(_ => Shrink());
        Command<FileShrunk>(f =>
        {
            _shrinking = false;
            if (f.Error is not null) _log.Warning("Compacting {0} failed: {1}", _file!.Name, f.Error);
            Context.Parent.Tell(new JournalCompacted(_compactingTo, f.Bytes));
        });
        Command<SaveSnapshotFailure>(f => _log.Warning("Saving a snapshot failed ({0}); recovery will replay more records", f.Cause.Message));
        Command<DeleteMessagesFailure>(f => _log.Warning("Deleting journal records behind the snapshot failed: {0}", f.Cause.Message));
        Command<DeleteSnapshotsFailure>(f => _log.Warning("Deleting older snapshots failed: {0}", f.Cause.Message));
    }

    /// <summary>Claims the journal (the write fence of several masters) before recovery starts; a claim that cannot be
    /// made fails this writer as a failed recovery does.</summary>
    protected override void PreStart()
    {
        try
        {
            if (_file?.ClaimWriter() is { Count: > 0 } ended)
                _log.Warning("Claiming {0} as its writer: the old writer's batch in flight held it for over {1} s (its process stopped running); ended its session(s): {2}",
                    _file.Name, PostgresJournalDatabase.InFlightGrace.TotalSeconds, string.Join(", ", ended));
        }
        catch (Exception e)
        {
            Fail($"claiming the journal as its writer failed: {Reason(e)}");
            return;
        }
        base.PreStart();
    }

    private void Replayed(IStoreRecord record)
    {
        switch (record)
        {
            case ObjectPut put when put.ResourceVersion > (_resumeAfter ?? 0):
                _replayed.Add(put with { Json = _values.FromStorage(put.Resource, put.Json) });
                break;
            case ObjectRemoved removed when removed.ResourceVersion > (_resumeAfter ?? 0):
                _replayed.Add(removed);
                break;
        }
        if (_replayed.Count >= ReplayChunk) Flush();
    }

    private void Flush()
    {
        if (_replayed.Count == 0) return;
        Context.Parent.Tell(new JournalRecordsReplayed(_replayed.ToList()));
        _replayed.Clear();
    }

    private void Write(PersistRecords command)
    {
        var first = command.Records.Select(StoredValues.ResourceVersionOf).FirstOrDefault(rv => rv > 0);
        if (first != 0 && first != LastSequenceNr + 1)
        {
            Fail($"the store stamped resourceVersion {first} but the journal is at {LastSequenceNr}");
            return;
        }
        var parent = Context.Parent;
        var stored = command.Records.Select(_values.ToStorage).ToList();
        var persisted = 0;
        PersistAll(stored, _ =>
        {
            if (++persisted == stored.Count) parent.Tell(new RecordsPersisted(LastSequenceNr));
        });
    }

    private void Snapshot(SaveStoreSnapshot command)
    {
        // A snapshot is only meaningful at exactly the state it describes.
        if (command.ResourceVersion != LastSequenceNr)
        {
            _log.Warning("Not saving a snapshot at {0}: the journal is at {1}", command.ResourceVersion, LastSequenceNr);
            return;
        }
        // Encoding every object takes long enough (tens of ms per thousand objects) to stall the batches behind it, so it
        // runs on the thread pool; the snapshot is then saved with the sequence number it was taken at, wherever the
        // journal is by then (records above it are replayed after it, as after any snapshot).
        var metadata = new SnapshotMetadata(SnapshotterId, command.ResourceVersion, DateTime.UtcNow);
        Task.Run(() => command.Objects.Select(o => new SnapshotObject(o.Resource, KubeObjects.Serialize(o.Object))).ToList())
            .PipeTo(Self, success: objects => new SnapshotEncoded(metadata, objects),
                failure: e => new SnapshotNotEncoded(command.ResourceVersion, e));
    }

    /// <summary>The stored values go through the encryption provider config here, on the writer (it alone uses the
    /// transformer), then to the snapshot store, which answers this writer as <see cref="Eventsourced.SaveSnapshot"/> does.</summary>
    private void SaveEncoded(SnapshotEncoded encoded) =>
        SnapshotStore.Tell(new SaveSnapshot(encoded.Metadata, new StoreSnapshot(
            encoded.Objects.Select(_values.ToStorage).ToList(),
            encoded.Metadata.SequenceNr)), Self);

    private sealed record SnapshotEncoded(SnapshotMetadata Metadata, List<SnapshotObject> Objects);
    private sealed record SnapshotNotEncoded(long ResourceVersion, Exception Error);

    private void Shrink()
    {
        if (_file is null)
        {
            Context.Parent.Tell(new JournalCompacted(_compactingTo, 0));
            return;
        }
        if (_shrinking) return;
        _shrinking = true;
        var file = _file;
        Task.Run(() =>
        {
            try
            {
                file.Shrink();
                return new FileShrunk(file.Bytes(), null);
            }
            catch (Exception e)
            {
                return new FileShrunk(file.Bytes(), e.Message);
            }
        }).PipeTo(Self);
    }

    private sealed record FileShrunk(long Bytes, string? Error);

    private void Fail(string reason) => StoredValues.Fail(Context, _log, reason);

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        Context.Parent.Tell(new JournalFailed(Reason(cause)));
        _log.Error("Writing journal record {0} failed: {1}", sequenceNr, Reason(cause));
        Context.Stop(Self);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr) =>
        Fail($"the journal rejected record {sequenceNr}: {Reason(cause)}");

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        Context.Parent.Tell(new JournalFailed($"recovery failed: {Reason(reason)}"));
        _log.Error("Recovering the journal failed: {0}", Reason(reason));
        Context.Stop(Self);
    }

    private static string Reason(Exception e) => StoredValues.Reason(e);
}
