using k8s.Models;
using Orchestrator.Master.ControlLoop;

namespace Orchestrator.Master.Scheduling.Framework;

/// <summary>The claims, volumes and classes the VolumeBinding filter reads (the scheduler's informer cache; a fixed set
/// in tests).</summary>
internal interface IVolumeLookup
{
    V1PersistentVolumeClaim? Claim(string? ns, string name);

    V1PersistentVolume? Volume(string name);

    V1StorageClass? Class(string name);

    IEnumerable<V1PersistentVolume> Volumes();
}

/// <summary>The lookup over an informer cache.</summary>
internal sealed class CachedVolumes(ObjectCache cache) : IVolumeLookup
{
    public V1PersistentVolumeClaim? Claim(string? ns, string name) => cache.Get<V1PersistentVolumeClaim>("persistentvolumeclaims", ns ?? "default", name);

    public V1PersistentVolume? Volume(string name) => cache.Get<V1PersistentVolume>("persistentvolumes", null, name);

    public V1StorageClass? Class(string name) => cache.Get<V1StorageClass>("storageclasses", null, name);

    public IEnumerable<V1PersistentVolume> Volumes() => cache.List<V1PersistentVolume>("persistentvolumes");
}

/// <summary>No claims, volumes or classes at all.</summary>
internal sealed class NoVolumes : IVolumeLookup
{
    public static NoVolumes Instance { get; } = new();

    public V1PersistentVolumeClaim? Claim(string? ns, string name) => null;

    public V1PersistentVolume? Volume(string name) => null;

    public V1StorageClass? Class(string name) => null;

    public IEnumerable<V1PersistentVolume> Volumes() => [];
}

/// <summary>A check of the pod alone before any node is looked at (Kubernetes' PreFilter): a message fails the pod on
/// every node at once.</summary>
internal interface ISchedulingPreFilter
{
    string? PreFilter(V1Pod pod);
}

/// <summary>A check of the pod against the whole cluster before any node is filtered (a PreFilter that needs every
/// node's pods, as VolumeRestrictions' ReadWriteOncePod check): a message fails the pod on each node for that reason.</summary>
internal interface ISchedulingNodesPreFilter
{
    string? PreFilter(V1Pod pod, IReadOnlyList<NodeInfo> nodes);
}
