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
/// with the volume's capacity and access modes). A claim of a class with volumeBindingMode WaitForFirstConsumer waits
/// until the scheduler names its node (<see cref="VolumeFacts.SelectedNode"/>) and then takes only a volume whose node
/// affinity admits that node (or one pre-bound to it: what the provisioner makes). A volume whose claim is gone becomes
/// Released — and is deleted when its reclaim policy is Delete (a provisioned volume's storage goes with it, see
/// LocalPathProvisioner) — a claim whose volume is gone Lost. Writes volumes, claims and their events; nothing else.
/// </summary>
internal sealed class PersistentVolumeBinder : ControllerActor
{
    private const string Volumes = "persistentvolumes";
    private const string Claims = "persistentvolumeclaims";
    private const string Classes = "storageclasses";
    private const string BoundByController = "pv.kubernetes.io/bound-by-controller";
    private const string BindCompleted = "pv.kubernetes.io/bind-completed";

    private const string Nodes = "nodes";
    public const string Component = "persistentvolume-controller";

    private readonly EventRecorder _events;
    private readonly HashSet<string> _toldWaiting = new(); // claim uids told WaitForFirstConsumer / FailedBinding

    public PersistentVolumeBinder(IActorRef store, TimeSpan resync) : base(store, [Volumes, Claims, Classes, Nodes], resync)
    {
        _events = new EventRecorder(store, Component);
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
            case V1Node:
                break; // read when a claim is bound for its selected node

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
        if (pv.Status?.Phase == "Released" && phase == "Released" && pv.Spec!.PersistentVolumeReclaimPolicy == "Delete")
        {
            // reclaim Delete, once Released is recorded (pv-protection lets a volume that is not Bound go): the volume
            // goes, and its provisioner's finalizer holds it until its storage is deleted
            Send(new DeleteObject(key, PreconditionUid: pv.Metadata.Uid), key);
            return;
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
            var waits = WaitsForConsumer(pvc);
            V1Node? selected = null;
            if (waits && pvc.Metadata.Annotations?.TryGetValue(VolumeFacts.SelectedNode, out var nodeName) == true)
                selected = Cache.Get<V1Node>(Nodes, null, nodeName);
            var volume = FindVolume(pvc, waits, selected);
            if (volume is null)
            {
                TellWhyUnbound(pvc, waits);
                return;
            }
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

    /// <summary>The volume named for this claim, else the smallest Available volume that fits it. A claim that waits for
    /// its first consumer takes only a volume pre-bound to it until its node is selected, then one that node can reach.</summary>
    private V1PersistentVolume? FindVolume(V1PersistentVolumeClaim pvc, bool waits, V1Node? selected) =>
        BestVolume(Cache.List<V1PersistentVolume>(Volumes), pvc, waits, selected);

    internal static V1PersistentVolume? BestVolume(IEnumerable<V1PersistentVolume> volumes, V1PersistentVolumeClaim pvc, bool waits,
        V1Node? selected)
    {
        var candidates = volumes.Where(pv => VolumeFacts.FreeFor(pv, pvc) && VolumeFacts.Fits(pv, pvc)).ToList();
        var preBound = candidates.FirstOrDefault(pv => pv.Spec!.ClaimRef is not null);
        if (preBound is not null || waits && selected is null) return preBound;
        return candidates.Where(pv => selected is null || VolumeFacts.AdmitsNode(pv, selected))
            .OrderBy(VolumeFacts.Capacity).ThenBy(pv => pv.Metadata.Name, StringComparer.Ordinal).FirstOrDefault();
    }

    private static bool RefersTo(V1ObjectReference? claimRef, V1PersistentVolumeClaim pvc) => VolumeFacts.RefersTo(claimRef, pvc);

    /// <summary>The pv controller's events for a claim left unbound, once per claim: waiting for its first consumer, or
    /// nothing to bind and nothing to provision it (no class).</summary>
    private void TellWhyUnbound(V1PersistentVolumeClaim pvc, bool waits)
    {
        if (waits && pvc.Metadata.Annotations?.ContainsKey(VolumeFacts.SelectedNode) == true) return; // the provisioner's turn
        string reason, message;
        if (waits) (reason, message) = ("WaitForFirstConsumer", "waiting for first consumer to be created before binding");
        else if (string.IsNullOrEmpty(pvc.Spec?.StorageClassName))
            (reason, message) = ("FailedBinding", "no persistent volumes available for this claim and no storage class is set");
        else if (Cache.Get<V1StorageClass>(Classes, null, pvc.Spec.StorageClassName) is null)
            (reason, message) = ("ProvisioningFailed", $"storageclass.storage.k8s.io \"{pvc.Spec.StorageClassName}\" not found");
        else return;
        if (!_toldWaiting.Add(pvc.Metadata.Uid + reason)) return;
        _events.Record(pvc, reason == "WaitForFirstConsumer" ? EventRecorder.Normal : EventRecorder.Warning, reason, message, Self);
    }

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
