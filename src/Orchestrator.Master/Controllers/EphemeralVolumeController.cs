using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Kubernetes' ephemeral volume controller: for each <c>ephemeral</c> volume of a pod, the claim POD-VOLUME made from
/// its volumeClaimTemplate and owned by the pod (so the garbage collector deletes it with the pod). A claim of that name
/// the pod does not own is left alone and the pod waits (an event says why). Writes claims and events only.
/// </summary>
internal sealed class EphemeralVolumeController : ControllerActor
{
    public const string Component = "ephemeral_volume";
    private const string Pods = "pods";
    private const string Claims = "persistentvolumeclaims";

    private readonly EventRecorder _events;
    private readonly HashSet<string> _told = new();

    public EphemeralVolumeController(IActorRef store, TimeSpan resync) : base(store, [Pods, Claims], resync)
    {
        _events = new EventRecorder(store, Component);
    }

    public static Props Props(IActorRef store, TimeSpan resync) => Akka.Actor.Props.Create(() => new EphemeralVolumeController(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() =>
        Cache.List<V1Pod>(Pods).Where(HasEphemeral).Select(p => ObjectCache.KeyOf(Pods, p));

    private static bool HasEphemeral(V1Pod pod) => pod.Spec?.Volumes?.Any(v => v.Ephemeral is not null) == true;

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        switch ((current ?? old)!)
        {
            case V1Pod pod when HasEphemeral(pod):
                Enqueue(ObjectCache.KeyOf(Pods, pod));
                break;
            case V1PersistentVolumeClaim pvc when OwnerReferences.ControllerOf(pvc) is { Kind: "Pod" } owner:
                Enqueue(new ResourceKey(Pods, pvc.Metadata.NamespaceProperty, owner.Name));
                break;
        }
    }

    protected override void Reconcile(ResourceKey key)
    {
        var pod = Cache.Get<V1Pod>(Pods, key.Namespace, key.Name);
        if (pod is null || pod.Metadata.DeletionTimestamp is not null || PodFacts.IsTerminal(pod)) return;
        foreach (var volume in pod.Spec.Volumes!.Where(v => v.Ephemeral?.VolumeClaimTemplate is not null))
        {
            var name = VolumeFacts.EphemeralClaimName(pod, volume.Name);
            var existing = Cache.Get<V1PersistentVolumeClaim>(Claims, key.Namespace, name);
            if (existing is not null)
            {
                if (OwnerReferences.ControllerOf(existing)?.Uid != pod.Metadata.Uid && _told.Add(pod.Metadata.Uid + name))
                    _events.Record(pod, EventRecorder.Warning, "FailedBinding",
                        $"PVC {key.Namespace}/{name} was not created for pod {key.Namespace}/{pod.Metadata.Name} (pod is not owner)", Self);
                continue;
            }
            Send(new CreateObject(Claims, ClaimFor(pod, volume)), key);
        }
    }

    internal static V1PersistentVolumeClaim ClaimFor(V1Pod pod, V1Volume volume)
    {
        var template = volume.Ephemeral.VolumeClaimTemplate;
        return new V1PersistentVolumeClaim
        {
            ApiVersion = "v1", Kind = "PersistentVolumeClaim",
            Metadata = new V1ObjectMeta
            {
                Name = VolumeFacts.EphemeralClaimName(pod, volume.Name),
                NamespaceProperty = pod.Metadata.NamespaceProperty,
                Labels = template.Metadata?.Labels, Annotations = template.Metadata?.Annotations,
                OwnerReferences =
                [
                    new V1OwnerReference
                    {
                        ApiVersion = "v1", Kind = "Pod", Name = pod.Metadata.Name, Uid = pod.Metadata.Uid, Controller = true, BlockOwnerDeletion = true,
                    },
                ],
            },
            Spec = KubeObjects.Clone(template.Spec),
        };
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is ResourceKey key && !reply.Succeeded && reply.Failed!.Error.Code != 409)
        {
            Log.Warning("creating the ephemeral volume claim of {0} failed: {1}", key, reply.Failed.Error.Message);
            RequeueAfter(key, TimeSpan.FromSeconds(5));
        }
    }
}
