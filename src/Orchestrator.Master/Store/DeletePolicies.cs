using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

/// <summary>
/// What a delete writes, by propagation policy — the store's share of Kubernetes' garbage collection:
/// <list type="bullet">
/// <item>Background: the object goes at once; the garbage collector deletes its dependents when it sees DELETED.</item>
/// <item>Orphan: the object goes at once, and its dependents lose their ownerReference to it first (persisted
/// updates), so the garbage collector leaves them alone.</item>
/// <item>Foreground: the object stays, marked with deletionTimestamp and the foregroundDeletion finalizer; the
/// garbage collector deletes the dependents and then removes the finalizer, which deletes the object.</item>
/// </list>
/// An object that already has finalizers is only marked (whatever the policy), as in Kubernetes — a namespace, held by
/// its <c>kubernetes</c> finalizer, is marked Terminating and the namespace controller deletes its content.
/// </summary>
internal static class DeletePolicies
{
    public const string ForegroundFinalizer = "foregroundDeletion";

    public static WritePlan Plan(IStateView state, IStoredResource resource, string storeName,
        IKubernetesObject<V1ObjectMeta> stored, string? policy)
    {
        if (resource.Strategy.RefuseDeletion(resource, stored) is { } refused) return WritePlan.Fail(refused);
        var finalizers = stored.Metadata.Finalizers ?? [];
        if (policy == "Foreground" || resource.Strategy.HasFinalizers(stored))
        {
            if (stored.Metadata.DeletionTimestamp is not null && (policy != "Foreground" || finalizers.Contains(ForegroundFinalizer)))
                return WritePlan.Unchanged(stored);
            var marked = KubeObjects.CloneObject(stored);
            marked.Metadata.DeletionTimestamp ??= WritePlanner.NowSeconds();
            marked.Metadata.DeletionGracePeriodSeconds ??= 0;
            if (policy == "Foreground" && !finalizers.Contains(ForegroundFinalizer))
                marked.Metadata.Finalizers = [.. finalizers, ForegroundFinalizer];
            resource.Strategy.PrepareForDeletion(marked);
            return WritePlan.One(new PlannedWrite(storeName, marked));
        }

        var writes = new List<PlannedWrite>();
        if (policy == "Orphan") writes.AddRange(Orphan(state, stored));
        var removed = new PlannedWrite(storeName, KubeObjects.CloneObject(stored), Removed: true);
        writes.Add(removed);
        return new WritePlan(writes, removed.Object);
    }

    /// <summary>Dependents of <paramref name="owner"/> (same namespace, or anywhere for a cluster-scoped owner),
    /// rewritten without their ownerReference to it.</summary>
    private static IEnumerable<PlannedWrite> Orphan(IStateView state, IKubernetesObject<V1ObjectMeta> owner)
    {
        var uid = owner.Metadata.Uid;
        var ns = owner.Metadata.NamespaceProperty;
        foreach (var (resource, obj) in state.All().ToList())
        {
            if (ns is not null && obj.Metadata.NamespaceProperty != ns) continue;
            if (obj.Metadata.OwnerReferences?.Any(r => r.Uid == uid) != true) continue;
            var orphan = KubeObjects.CloneObject(obj);
            orphan.Metadata.OwnerReferences = orphan.Metadata.OwnerReferences.Where(r => r.Uid != uid).ToList();
            if (orphan.Metadata.OwnerReferences.Count == 0) orphan.Metadata.OwnerReferences = null;
            yield return new PlannedWrite(resource, orphan);
        }
    }
}
