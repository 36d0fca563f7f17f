using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Kubernetes' pvc-protection and pv-protection controllers: a claim being deleted keeps its
/// <see cref="VolumeFacts.ClaimProtection"/> finalizer while a pod that is not finished uses it (scheduled or not), and a
/// volume being deleted keeps <see cref="VolumeFacts.VolumeProtection"/> while it is Bound. The API adds both finalizers on
/// create. Writes those finalizers only.
/// </summary>
internal sealed class StorageProtectionController : ControllerActor
{
    private const string Claims = "persistentvolumeclaims";
    private const string Volumes = "persistentvolumes";
    private const string Pods = "pods";

    public StorageProtectionController(IActorRef store, TimeSpan resync) : base(store, [Claims, Volumes, Pods], resync)
    {
    }

    public static Props Props(IActorRef store, TimeSpan resync) => Akka.Actor.Props.Create(() => new StorageProtectionController(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() =>
        Cache.List<V1PersistentVolumeClaim>(Claims).Where(c => c.Metadata.DeletionTimestamp is not null).Select(c => ObjectCache.KeyOf(Claims, c))
            .Concat(Cache.List<V1PersistentVolume>(Volumes).Where(v => v.Metadata.DeletionTimestamp is not null).Select(v => ObjectCache.KeyOf(Volumes, v)));

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        switch ((current ?? old)!)
        {
            case V1Pod pod:
                // a pod that finished or went away may free its claims
                foreach (var claim in VolumeFacts.Claims(pod))
                    Enqueue(new ResourceKey(Claims, pod.Metadata.NamespaceProperty, claim.ClaimName));
                break;
            case V1PersistentVolumeClaim pvc:
                Enqueue(ObjectCache.KeyOf(Claims, pvc));
                if (!string.IsNullOrEmpty(pvc.Spec?.VolumeName)) Enqueue(new ResourceKey(Volumes, null, pvc.Spec.VolumeName));
                break;
            case V1PersistentVolume pv:
                Enqueue(ObjectCache.KeyOf(Volumes, pv));
                break;
        }
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (key.Resource == Claims)
        {
            var pvc = Cache.Get<V1PersistentVolumeClaim>(Claims, key.Namespace, key.Name);
            if (pvc?.Metadata.DeletionTimestamp is null || pvc.Metadata.Finalizers?.Contains(VolumeFacts.ClaimProtection) != true) return;
            if (InUse(pvc)) return;
            RemoveFinalizer(Claims, pvc, VolumeFacts.ClaimProtection, key);
            return;
        }
        var pv = Cache.Get<V1PersistentVolume>(Volumes, null, key.Name);
        if (pv?.Metadata.DeletionTimestamp is null || pv.Metadata.Finalizers?.Contains(VolumeFacts.VolumeProtection) != true) return;
        if (pv.Status?.Phase == "Bound") return;
        RemoveFinalizer(Volumes, pv, VolumeFacts.VolumeProtection, key);
    }

    /// <summary>podUsesPVC over the claim's namespace: any pod not Succeeded or Failed that names it.</summary>
    private bool InUse(V1PersistentVolumeClaim pvc) =>
        Cache.List<V1Pod>(Pods, pvc.Metadata.NamespaceProperty)
            .Any(p => !PodFacts.IsTerminal(p) && VolumeFacts.Uses(p, pvc.Metadata.NamespaceProperty, pvc.Metadata.Name));

    private void RemoveFinalizer<T>(string resource, T obj, string finalizer, ResourceKey key) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var updated = KubeObjects.Clone(obj);
        updated.Metadata.Finalizers = updated.Metadata.Finalizers!.Where(f => f != finalizer).ToList();
        Send(new UpdateObject(resource, updated), key);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is not ResourceKey key || reply.Succeeded || reply.Failed!.Error.Code == 404) return;
        if (reply.Failed.Error.Code != 409) Log.Warning("removing the protection finalizer of {0} failed: {1}", key, reply.Failed.Error.Message);
        RequeueAfter(key, TimeSpan.FromSeconds(1));
    }
}
