namespace Orchestrator.Master.Store;

/// <summary>The store's limits and timings. Defaults are kube-apiserver's and etcd's where they have one.</summary>
/// <param name="SnapshotEvery">Snapshot (and compact behind it) after this many journal records (etcd 3.6's default
/// --snapshot-count: each snapshot encodes every object, so a smaller count costs a write path with many objects a share
/// of a full snapshot per record)…</param>
/// <param name="SnapshotAfterBytes">…or after this many bytes of objects written, or the size of all objects if larger.</param>
/// <param name="WatchWindow">Changes kept for watches that resume from a resourceVersion…</param>
/// <param name="WatchWindowBytes">…at most this many bytes of their objects' JSON…</param>
/// <param name="WatchWindowAge">…and for this long (5 minutes: etcd's compaction interval in kube-apiserver).</param>
/// <param name="MaxObjectBytes">An object's JSON may not be larger (etcd's --max-request-bytes, 1.5 MiB).</param>
/// <param name="EventTtl">Events are deleted this long after their last write (kube-apiserver's --event-ttl).</param>
/// <param name="MaxQueuedWrites">Writes waiting for the journal beyond this are answered 429.</param>
/// <param name="WriterBackoffMin">A failed journal writer is replaced after this long, doubling…</param>
/// <param name="WriterBackoffMax">…up to this.</param>
/// <param name="ReclaimAfterBytes">After this many bytes of objects written…</param>
/// <param name="ReclaimAfterIdle">…and this long without a write, memory is given back to the system.</param>
public sealed record ObjectStoreSettings(
    int SnapshotEvery = 10_000,
    long SnapshotAfterBytes = 16 * 1024 * 1024,
    int WatchWindow = 10_000,
    long WatchWindowBytes = 16 * 1024 * 1024,
    TimeSpan? WatchWindowAge = null,
    int MaxObjectBytes = 1536 * 1024,
    TimeSpan? EventTtl = null,
    int MaxQueuedWrites = 1000,
    TimeSpan? WriterBackoffMin = null,
    TimeSpan? WriterBackoffMax = null,
    long ReclaimAfterBytes = 8 * 1024 * 1024,
    TimeSpan? ReclaimIdle = null)
{
    public static ObjectStoreSettings Default { get; } = new();

    public TimeSpan EventTimeToLive => EventTtl ?? TimeSpan.FromHours(1);
    public TimeSpan WatchWindowMaxAge => WatchWindowAge ?? TimeSpan.FromMinutes(5);
    public TimeSpan BackoffMin => WriterBackoffMin ?? TimeSpan.FromMilliseconds(200);
    public TimeSpan BackoffMax => WriterBackoffMax ?? TimeSpan.FromSeconds(5);
    public TimeSpan ReclaimAfterIdle => ReclaimIdle ?? TimeSpan.FromSeconds(10);
}
