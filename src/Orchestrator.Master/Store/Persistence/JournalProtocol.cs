using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store.Persistence;

// Between the ObjectStore and its JournalWriter child. Records travel with their objects' plain JSON: the writer
// alone applies the encryption provider config on the way to and from the journal.

/// <summary>Persist these records in order; the first takes the writer's next sequence number, which the store
/// has already stamped as its resourceVersion. Answered with <see cref="RecordsPersisted"/>; a writer that cannot
/// persist sends <see cref="JournalFailed"/> and stops.</summary>
internal sealed record PersistRecords(IReadOnlyList<IStoreRecord> Records);

internal sealed record RecordsPersisted(long LastSequenceNr);

/// <summary>Save a snapshot of these objects, the store's at <see cref="ResourceVersion"/> (the writer's current sequence
/// number), then compact behind it: journal records and older snapshots are deleted and the file shrinks. Answered with
/// <see cref="JournalCompacted"/>. The objects travel unencoded (stored objects are never changed): the writer encodes
/// them off both actors, so neither the store nor the journal's next batch waits for a snapshot of every object.</summary>
internal sealed record SaveStoreSnapshot(IReadOnlyList<(string Resource, IKubernetesObject<V1ObjectMeta> Object)> Objects,
    long ResourceVersion);

internal sealed record JournalCompacted(long SequenceNr, long FileBytes);

/// <summary>During recovery: the snapshot recovery starts from.</summary>
internal sealed record JournalSnapshotLoaded(StoreSnapshot Snapshot);

/// <summary>During recovery: journal records after the snapshot (or, for a writer that replaces a failed one,
/// after the store's resourceVersion), in order.</summary>
internal sealed record JournalRecordsReplayed(IReadOnlyList<IStoreRecord> Records);

/// <summary>Recovery is complete at <see cref="LastSequenceNr"/>. <see cref="RewriteNeeded"/>: some values were read
/// with a key that no longer writes (a rotation), so the store should snapshot at once.</summary>
internal sealed record JournalRecovered(long LastSequenceNr, bool RewriteNeeded);

/// <summary>The writer's <see cref="JournalProbe"/> is stored: the journal takes writes again.</summary>
internal sealed record JournalWritable(long LastSequenceNr);

/// <summary>Sent by a writer just before it stops: why it could not read or write the journal.</summary>
internal sealed record JournalFailed(string Reason);
