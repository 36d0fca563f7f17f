using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Filters;

/// <summary>
/// Kubernetes' VolumeBinding plugin for the pod's persistentVolumeClaim and ephemeral volumes. PreFilter: every claim
/// exists, is not being deleted, and is bound unless its class waits for the first consumer. Filter: a bound claim's
/// volume must admit the node (its node affinity); an unbound WaitForFirstConsumer claim needs, on the node, a free
/// static volume that fits it or a provisioner that can make one there (the local-path provisioner: a node that reports
/// its directory) — and once its node is selected, that node only. Choosing the node for unbound claims is the
/// scheduler's next step (<see cref="Scheduler"/> sets the selected node and binds the pod once the claims are bound).
/// </summary>
internal sealed class VolumeBindingFilter(IVolumeLookup volumes) : ISkippableFilter, ISchedulingPreFilter
{
    public const string UnboundImmediate = "pod has unbound immediate PersistentVolumeClaims";
    public const string NodeConflict = "node(s) had volume node affinity conflict";
    public const string BindConflict = "node(s) didn't find available persistent volumes to bind";
    public const string VolumeMissing = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";

    public string Name => "VolumeBinding";

    public string? PreFilter(V1Pod pod)
    {
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        var unboundImmediate = false;
        foreach (var claim in VolumeFacts.Claims(pod))
        {
            var pvc = volumes.Claim(ns, claim.ClaimName);
            if (pvc is null)
                return claim.Ephemeral
                    ? $"waiting for ephemeral volume controller to create the persistentvolumeclaim \"{claim.ClaimName}\""
                    : $"persistentvolumeclaim \"{claim.ClaimName}\" not found";
            if (claim.Ephemeral && OwnerReferences.ControllerOf(pvc)?.Uid != pod.Metadata.Uid)
                return $"PVC {ns}/{claim.ClaimName} was not created for pod {ns}/{pod.Metadata.Name} (pod is not owner)";
            if (pvc.Metadata.DeletionTimestamp is not null) return $"persistentvolumeclaim \"{claim.ClaimName}\" is being deleted";
            if (!VolumeFacts.IsBound(pvc) && !WaitsForConsumer(pvc)) unboundImmediate = true;
        }
        return unboundImmediate ? UnboundImmediate : null;
    }

    public bool Skips(V1Pod pod) => pod.Spec?.Volumes is not { Count: > 0 };

    public string? Filter(V1Pod pod, NodeInfo node)
    {
        if (pod.Spec?.Volumes is not { Count: > 0 }) return null; // nothing to bind: no pass over the volumes
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        foreach (var claim in VolumeFacts.Claims(pod))
        {
            if (volumes.Claim(ns, claim.ClaimName) is not { } pvc) continue; // PreFilter's failure
            if (VolumeFacts.IsBound(pvc))
            {
                if (volumes.Volume(pvc.Spec!.VolumeName) is not { } pv) return VolumeMissing;
                if (!VolumeFacts.AdmitsNode(pv, node.Node)) return NodeConflict;
                continue;
            }
            if (pvc.Metadata.Annotations?.TryGetValue(VolumeFacts.SelectedNode, out var selected) == true && selected != node.Name)
                return BindConflict;
            if (!CanBindOn(pvc, node.Node)) return BindConflict;
        }
        return null;
    }

    /// <summary>The claims of the pod that still wait for their node (unbound, WaitForFirstConsumer).</summary>
    public IReadOnlyList<V1PersistentVolumeClaim> UnboundClaims(V1Pod pod) =>
        VolumeFacts.Claims(pod).Select(c => volumes.Claim(pod.Metadata.NamespaceProperty, c.ClaimName))
            .OfType<V1PersistentVolumeClaim>().Where(c => !VolumeFacts.IsBound(c)).DistinctBy(c => c.Metadata.Name).ToList();

    private bool WaitsForConsumer(V1PersistentVolumeClaim pvc) =>
        pvc.Spec?.StorageClassName is { Length: > 0 } name && volumes.Class(name)?.VolumeBindingMode == "WaitForFirstConsumer";

    private bool CanBindOn(V1PersistentVolumeClaim pvc, V1Node node)
    {
        if (volumes.Volumes().Any(pv => VolumeFacts.FreeFor(pv, pvc) && VolumeFacts.Fits(pv, pvc) && VolumeFacts.AdmitsNode(pv, node)))
            return true;
        var provisioner = volumes.Class(pvc.Spec!.StorageClassName)?.Provisioner;
        return provisioner switch
        {
            VolumeFacts.LocalPathProvisioner => node.Metadata.Annotations?.ContainsKey(VolumeFacts.LocalPathRoot) == true,
            "kubernetes.io/no-provisioner" or null => false,
            _ => true, // another provisioner decides where it can make volumes
        };
    }
}
