using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store;

// The store's change stream to the replicas of the other masters (docs/multi-master.md, "Reads and watches on every
// master"). A StoreReplica sends StartReplication to the leader's store; the store starts a ReplicationFeed for it, which
// sends a consistent snapshot at resourceVersion R (SnapshotPart…, SnapshotDone) and then every change after R, in order.
// Each message of a feed carries the next Sequence (1, 2, …): a replica that sees a gap (a message lost when the
// association dropped) starts again from a new snapshot. ProgressRequested is answered in the stream, after every change
// up to the store's current resourceVersion: kube-apiserver's consistent read on etcd's progress notify.
// The records below IReplicationMessage cross Akka remoting (ReplicationSerializer); objects travel as their JSON.

/// <summary>Marks the messages of the replication stream (bound to <see cref="ReplicationSerializer"/>).</summary>
internal interface IReplicationMessage;

/// <summary>To the leader's store: start a feed to the sender (a replica).</summary>
internal sealed record StartReplication : IReplicationMessage;

/// <summary>Replica to its feed: send a <see cref="ProgressReported"/> with the store's current resourceVersion.</summary>
internal sealed record ProgressRequested : IReplicationMessage;

/// <summary>Replica to a feed it does not (or no longer) follow.</summary>
internal sealed record StopReplication : IReplicationMessage;

/// <summary>One object of a replicated snapshot: its store name and JSON.</summary>
internal sealed record ReplicatedObject(string Resource, string Json);

/// <summary>Part of the snapshot (several, each a few MiB at most, so that a frame stays under remoting's limit).</summary>
internal sealed record SnapshotPart(long Sequence, IReadOnlyList<ReplicatedObject> Objects) : IReplicationMessage;

/// <summary>The snapshot is complete: it is the state at <see cref="ResourceVersion"/>; changes after it follow.</summary>
internal sealed record SnapshotDone(long Sequence, long ResourceVersion) : IReplicationMessage;

/// <summary>One change (ADDED, MODIFIED, DELETED) of the store, as its watchers see it.</summary>
internal sealed record ChangeReplicated(long Sequence, string Type, string Resource, string Json, long ResourceVersion) : IReplicationMessage;

/// <summary>Every change up to <see cref="ResourceVersion"/> has been sent before this.</summary>
internal sealed record ProgressReported(long Sequence, long ResourceVersion) : IReplicationMessage;

// Local messages between the store and its feeds (never remote).

/// <summary>Feed to store: reply <see cref="StateSnapshot"/> and subscribe the sender to every later change, in one step.</summary>
internal sealed record SnapshotState
{
    public static SnapshotState Instance { get; } = new();
}

internal sealed record StateSnapshot(IReadOnlyList<(string Resource, IKubernetesObject<V1ObjectMeta> Object)> Objects, long ResourceVersion);

/// <summary>Feed to store: reply <see cref="ResourceVersionIs"/> with the resourceVersion of the state (every change up
/// to it has been published before the reply).</summary>
internal sealed record GetResourceVersion
{
    public static GetResourceVersion Instance { get; } = new();
}

internal sealed record ResourceVersionIs(long ResourceVersion);

/// <summary>To a replica, from the API of a master that forwarded a write: reply <see cref="CaughtUp"/> once the replica
/// has applied the leader's resourceVersion of now (a consistent read without the read), so that the write's answer is
/// given only when this master reads it.</summary>
internal sealed record CatchUp
{
    public static CatchUp Instance { get; } = new();
}

internal sealed record CaughtUp(long ResourceVersion);
