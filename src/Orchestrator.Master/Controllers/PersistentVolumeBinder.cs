using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Binds PersistentVolumeClaims to existing PersistentVolumes, as Kubernetes' persistent volume controller does for
/// statically provisioned volumes: a Pending claim gets the smallest Available volume of its class (and volume mode)
/// that offers its access modes and at least its storage request and matches its selector — or the volume that names it
/// in claimRef; the volume gets the claim in claimRef, then the claim the volume's name, and both turn Bound (the claim
/// with the volume's capacity and access modes). Claims of a class with volumeBindingMode WaitForFirstConsumer wait
/// (nothing schedules them yet); nothing provisions volumes. A volume whose claim is gone becomes Released, a claim
/// whose volume is gone Lost. Writes volumes and claims; nothing else.
/// </summary>
internal sealed class PersistentVolumeBinder : ControllerActor
{
    private const string Volumes = "persistentvolumes";
    private const string Claims = "persistentvolumeclaims";
    private const string Classes = "storageclasses";
    private const string BoundByController = "pv.kubernetes.io/bound-by-controller";
    private const string BindCompleted = "pv.kubernetes.io/bind-completed";

    public PersistentVolumeBinder(IActorRef store, TimeSpan resync) : base(store, [Volumes, Claims, Classes], resync)
    {
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new PersistentVolumeBinder(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Volumes).Concat(Cache.Keys(Claims));

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        var any = (current ?? old)!;
        switch (any)
        {
            case V1PersistentVolume pv:
                Enqueue(ObjectCache.KeyOf(Volumes, pv));
                if (pv.Spec?.ClaimRef is { } claimRef) Enqueue(new ResourceKey(Claims, claimRef.NamespaceProperty, claimRef.Name));
                // a volume that became Available may suit a waiting claim
                foreach (var claim in Cache.List<V1PersistentVolumeClaim>(Claims).Where(c => string.IsNullOrEmpty(c.Spec?.VolumeName)))
                    Enqueue(ObjectCache.KeyOf(Claims, claim));
                break;
            case V1PersistentVolumeClaim pvc:
                Enqueue(ObjectCache.KeyOf(Claims, pvc));
                foreach (var pv in Cache.List<V1PersistentVolume>(Volumes).Where(v => RefersTo(v.Spec?.ClaimRef, pvc) || v.Metadata.Name == pvc.Spec?.VolumeName))
                    Enqueue(ObjectCache.KeyOf(Volumes, pv));
                break;
            case V1StorageClass:
                foreach (var key in Cache.Keys(Claims)) Enqueue(key);
                break;
        }
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (key.Resource == Volumes) SyncVolume(key);
        else SyncClaim(key);
    }

    private void SyncVolume(ResourceKey key)
    {
        var pv = Cache.Get<V1PersistentVolume>(Volumes, null, key.Name);
        if (pv is null || pv.Metadata.DeletionTimestamp is not null) return;
        var claimRef = pv.Spec?.ClaimRef;
        string phase;
        if (claimRef is null) phase = "Available";
        else
        {
            var claim = Cache.Get<V1PersistentVolumeClaim>(Claims, claimRef.NamespaceProperty, claimRef.Name);
            if (string.IsNullOrEmpty(claimRef.Uid)) phase = "Available"; // pre-bound by its author: waits for that claim
            else if (claim is null || claim.Metadata.Uid != claimRef.Uid) phase = "Released";
            else phase = "Bound";
        }
        if (pv.Status?.Phase == phase || pv.Status?.Phase == "Failed") return;
        var updated = KubeObjects.Clone(pv);
        updated.Status = new V1PersistentVolumeStatus { Phase = phase, LastPhaseTransitionTime = DateTime.UtcNow };
        Send(new UpdateObject(Volumes, updated, "status"), key);
    }

    private void SyncClaim(ResourceKey key)
    {
        var pvc = Cache.Get<V1PersistentVolumeClaim>(Claims, key.Namespace, key.Name);
        if (pvc is null || pvc.Metadata.DeletionTimestamp is not null) return;
        var volumeName = pvc.Spec?.VolumeName;
        if (string.IsNullOrEmpty(volumeName))
        {
            if (WaitsForConsumer(pvc)) return;
            var volume = FindVolume(pvc);
            if (volume is null) return;
            if (volume.Spec!.ClaimRef is null || string.IsNullOrEmpty(volume.Spec.ClaimRef.Uid))
            {
                BindVolume(volume, pvc);
                return;
            }
            var bound = KubeObjects.Clone(pvc);
            bound.Spec!.VolumeName = volume.Metadata.Name;
            bound.Metadata.Annotations ??= new Dictionary<string, string>();
            bound.Metadata.Annotations[BindCompleted] = "yes";
            bound.Metadata.Annotations[BoundByController] = "yes";
            Send(new UpdateObject(Claims, bound), key);
            return;
        }

        var pv = Cache.Get<V1PersistentVolume>(Volumes, null, volumeName);
        if (pv is null)
        {
            SetClaimStatus(pvc, "Lost", null, key);
            return;
        }
        if (pv.Spec?.ClaimRef is null || (string.IsNullOrEmpty(pv.Spec.ClaimRef.Uid) && RefersTo(pv.Spec.ClaimRef, pvc)))
        {
            BindVolume(pv, pvc); // the claim named the volume: the volume follows
            return;
        }
        if (pv.Spec.ClaimRef.Uid != pvc.Metadata.Uid) return; // the volume belongs to another claim: stay Pending
        SetClaimStatus(pvc, "Bound", pv, key);
    }

    private void BindVolume(V1PersistentVolume pv, V1PersistentVolumeClaim pvc)
    {
        var updated = KubeObjects.Clone(pv);
        updated.Spec!.ClaimRef = new V1ObjectReference
        {
            ApiVersion = "v1", Kind = "PersistentVolumeClaim", NamespaceProperty = pvc.Metadata.NamespaceProperty,
            Name = pvc.Metadata.Name, Uid = pvc.Metadata.Uid, ResourceVersion = pvc.Metadata.ResourceVersion,
        };
        updated.Metadata.Annotations ??= new Dictionary<string, string>();
        updated.Metadata.Annotations[BoundByController] = "yes";
        Send(new UpdateObject(Volumes, updated), ObjectCache.KeyOf(Volumes, pv));
    }

    private void SetClaimStatus(V1PersistentVolumeClaim pvc, string phase, V1PersistentVolume? pv, ResourceKey key)
    {
        var status = new V1PersistentVolumeClaimStatus
        {
            Phase = phase,
            AccessModes = pv?.Spec?.AccessModes,
            Capacity = pv?.Spec?.Capacity,
        };
        if (KubeObjects.SameJson(pvc.Status, status)) return;
        var updated = KubeObjects.Clone(pvc);
        updated.Status = status;
        Send(new UpdateObject(Claims, updated, "status"), key);
    }

    private bool WaitsForConsumer(V1PersistentVolumeClaim pvc) =>
        pvc.Spec?.StorageClassName is { Length: > 0 } name &&
        Cache.Get<V1StorageClass>(Classes, null, name)?.VolumeBindingMode == "WaitForFirstConsumer";

    /// <summary>The volume named for this claim, else the smallest Available volume that fits it.</summary>
    private V1PersistentVolume? FindVolume(V1PersistentVolumeClaim pvc)
    {
        var spec = pvc.Spec!;
        var request = spec.Resources?.Requests?.TryGetValue("storage", out var r) == true ? r.ToDecimal() : 0m;
        var storageClass = spec.StorageClassName ?? "";
        var selector = spec.Selector is null ? null : LabelSelector.FromLabelSelector(spec.Selector);
        var candidates = Cache.List<V1PersistentVolume>(Volumes)
            .Where(pv => pv.Metadata.DeletionTimestamp is null && pv.Spec is not null)
            .Where(pv => pv.Spec!.ClaimRef is null ? pv.Status?.Phase is "Available" or "Pending" or null : RefersTo(pv.Spec.ClaimRef, pvc))
            .Where(pv => (pv.Spec!.StorageClassName ?? "") == storageClass)
            .Where(pv => (pv.Spec!.VolumeMode ?? "Filesystem") == (spec.VolumeMode ?? "Filesystem"))
            .Where(pv => (spec.AccessModes ?? []).All(m => pv.Spec!.AccessModes?.Contains(m) == true))
            .Where(pv => (pv.Spec!.Capacity?.TryGetValue("storage", out var c) == true ? c.ToDecimal() : 0m) >= request)
            .Where(pv => selector is null || selector.Matches(pv.Metadata.Labels))
            .ToList();
        return candidates.FirstOrDefault(pv => pv.Spec!.ClaimRef is not null)
               ?? candidates.OrderBy(pv => pv.Spec!.Capacity!["storage"].ToDecimal()).ThenBy(pv => pv.Metadata.Name, StringComparer.Ordinal).FirstOrDefault();
    }

    private static bool RefersTo(V1ObjectReference? claimRef, V1PersistentVolumeClaim pvc) =>
        claimRef is not null && claimRef.NamespaceProperty == pvc.Metadata.NamespaceProperty && claimRef.Name == pvc.Metadata.Name &&
        (string.IsNullOrEmpty(claimRef.Uid) || claimRef.Uid == pvc.Metadata.Uid);

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is ResourceKey key && !reply.Succeeded)
        {
            if (reply.Failed!.Error.Code is not (409 or 404))
                Log.Warning("binding {0} failed: {1}", key, reply.Failed.Error.Message);
            RequeueAfter(key, TimeSpan.FromSeconds(1));
        }
    }
}
