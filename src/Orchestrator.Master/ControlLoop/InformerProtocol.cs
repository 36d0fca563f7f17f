using k8s;
using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.ControlLoop;

// Messages between a controller and its informer machinery. Store change notifications reach the controller
// as the store's own ObjectChanged, forwarded by the reflector.

/// <summary>Reflector → controller: the whole current set of one resource (initial list and every relist);
/// the controller's cache of that resource is replaced by it.</summary>
internal sealed record ResourceListed(string Resource, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Items, long ResourceVersion);

/// <summary>StoreCall → controller: the store's answer to one request the controller sent with a tag.
/// Exactly one of <see cref="Stored"/>, <see cref="Listed"/> (the answer to a ListObjects), <see cref="Written"/> (the
/// answers to a WriteObjects, each its own success or failure) and <see cref="Failed"/> (also: no answer in time) is set.</summary>
internal sealed record StoreReplied(object Tag, object Request, ObjectStored? Stored, StoreFailed? Failed, ObjectsListed? Listed = null,
    ObjectsWritten? Written = null)
{
    public bool Succeeded => Stored is not null || Listed is not null || Written is not null;
}

/// <summary>Timer and self messages of <see cref="ControllerActor"/>.</summary>
internal sealed record DrainQueue
{
    public static readonly DrainQueue Instance = new();
}

internal sealed record ResyncAll
{
    public static readonly ResyncAll Instance = new();
}

internal sealed record RequeueKey(ResourceKey Key);
