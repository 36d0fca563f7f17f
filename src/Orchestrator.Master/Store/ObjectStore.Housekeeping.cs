using Akka.Actor;
using Akka.Event;
using k8s.Models;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

// What the ObjectStore does on its own: the default objects, expired events, and memory after large bursts.
internal sealed partial class ObjectStore
{
    private PendingWrite Internal(string what, Func<WritePlan> plan, Action<StoreError>? failed = null) =>
        new(plan, false, (_, _, _) => { }, error =>
        {
            if (failed is not null) failed(error);
            else _log.Warning("{0} failed: {1}", what, error.Message);
        });

    /// <summary>
    /// The objects every cluster has (kube-apiserver keeps the system namespaces and the "kubernetes" Service in
    /// place the same way): created, as ordinary writes, whenever they are missing and the journal takes writes.
    /// The namespaces go first because the Service needs "default"; then the system priority classes.
    /// </summary>
    private void SeedDefaults()
    {
        Write(Internal("Creating the default namespaces", () => WritePlanner.Merge(DefaultObjects.Namespaces()
            .Where(ns => _planning.Namespace(ns.Metadata.Name) is null)
            .Select(ns => _planner.PlanCreate("namespaces", ns)))));
        Write(Internal("Creating the kubernetes Service", () => _planning.Get("services", "default", "kubernetes") is not null
            ? new WritePlan([], null)
            : _planner.PlanCreate("services", DefaultObjects.KubernetesService())));
        if (_catalog.Find("priorityclasses") is not null)
            Write(Internal("Creating the system priority classes", () => WritePlanner.Merge(DefaultObjects.SystemPriorityClasses()
                .Where(pc => _planning.Get("priorityclasses", null, pc.Metadata.Name) is null)
                .Select(pc => _planner.PlanCreate("priorityclasses", pc)))));
    }

    /// <summary>Deletes the events whose TTL has passed (at most 500 per journal write), as etcd's leases do.</summary>
    private void Expire()
    {
        if (!_writable) return;
        var now = DateTime.UtcNow;
        foreach (var chunk in _expiry.Due(now).Chunk(500))
            Write(Internal("Deleting expired events", () => new WritePlan(chunk
                    .Select(key => _expiry.IsDue(key, now) && _planning.Get(key) is { } obj ? new PlannedWrite(key.Resource, KubeObjects.CloneObject(obj), Removed: true) : null)
                    .OfType<PlannedWrite>().ToList(), null),
                _ => { foreach (var key in chunk) _expiry.Retry(key, now); }));
    }

    /// <summary>
    /// After a burst of large objects written (or dropped from the watch window), once writes have paused for
    /// <see cref="ObjectStoreSettings.ReclaimAfterIdle"/>: a compacting collection that gives memory back to the
    /// system, and another a minute later, when the runtime's buffer pools have let go of the burst's buffers. The
    /// request bodies, versions and snapshots of such a burst sit in the large object heap, which only a full
    /// collection frees, and an idle process makes none: without this the master would keep a burst's peak.
    /// </summary>
    private void ScheduleReclaim(long bytes)
    {
        _bytesSinceReclaim += bytes;
        if (_bytesSinceReclaim >= _settings.ReclaimAfterBytes)
            Timers.StartSingleTimer("reclaim", ReclaimMemory.First, _settings.ReclaimAfterIdle);
    }

    private void Reclaim(ReclaimMemory reclaim)
    {
        var before = GC.GetGCMemoryInfo();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Orchestrator.Shared.Hosting.NativeHeap.Trim();
        var after = GC.GetGCMemoryInfo();
        _log.Info("Gave memory back after {0} MB of large objects: heap {1} MB -> {2} MB, committed {3} MB -> {4} MB",
            _bytesSinceReclaim >> 20, before.HeapSizeBytes >> 20, after.HeapSizeBytes >> 20,
            before.TotalCommittedBytes >> 20, after.TotalCommittedBytes >> 20);
        _bytesSinceReclaim = 0;
        if (!reclaim.FollowUp) Timers.StartSingleTimer("reclaim", ReclaimMemory.Again, TimeSpan.FromSeconds(70));
    }
}
