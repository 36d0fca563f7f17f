using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.ControlLoop;

/// <summary>One persistentVolumeClaim a pod uses: the pod's volume, the claim's name (for an <c>ephemeral</c> volume the
/// claim the ephemeral volume controller makes, POD-VOLUME), and whether the pod mounts it read-only.</summary>
internal sealed record PodClaim(string Volume, string ClaimName, bool Ephemeral, bool ReadOnly);

/// <summary>What the binder, the provisioner, the protection controller and the scheduler read alike about claims and
/// volumes (Kubernetes' pv controller helpers and volume binding): which claims a pod uses, whether a volume fits a
/// claim, whether a volume's node affinity admits a node. Pure.</summary>
internal static class VolumeFacts
{
    /// <summary>The node the scheduler chose for a WaitForFirstConsumer claim's first pod.</summary>
    public const string SelectedNode = "volume.kubernetes.io/selected-node";
    public const string ProvisionedBy = "pv.kubernetes.io/provisioned-by";
    public const string ClaimProtection = "kubernetes.io/pvc-protection";
    public const string VolumeProtection = "kubernetes.io/pv-protection";
    /// <summary>Held by a provisioned volume until its storage is deleted (the external provisioner's finalizer).</summary>
    public const string ProvisionerFinalizer = "external-provisioner.volume.kubernetes.io/finalizer";
    /// <summary>The built-in dynamic provisioner: directories on the node, named as k3s' so its manifests work unchanged.</summary>
    public const string LocalPathProvisioner = "rancher.io/local-path";
    public const string LocalPathClass = "local-path";
    /// <summary>On a Node: the directory under which that node makes local-path volumes (its <c>--root-dir</c>/volumes).</summary>
    public const string LocalPathRoot = "volumes.orchestrator.io/local-path-root";

    /// <summary>The pod's claims in the order of its volumes. A list made only when there is one: the node gateway and
    /// the scheduler ask this of pods on every change, and most pods have none.</summary>
    public static IEnumerable<PodClaim> Claims(V1Pod pod)
    {
        if (pod.Spec?.Volumes is not { } volumes) return [];
        List<PodClaim>? claims = null;
        for (var i = 0; i < volumes.Count; i++)
        {
            var volume = volumes[i];
            if (volume.PersistentVolumeClaim is { ClaimName: { Length: > 0 } name } source)
                (claims ??= []).Add(new PodClaim(volume.Name, name, false, source.ReadOnlyProperty == true));
            else if (volume.Ephemeral is not null)
                (claims ??= []).Add(new PodClaim(volume.Name, EphemeralClaimName(pod, volume.Name), true, false));
        }
        return claims ?? (IEnumerable<PodClaim>)[];
    }

    public static string EphemeralClaimName(V1Pod pod, string volume) => $"{pod.Metadata.Name}-{volume}";

    public static bool Uses(V1Pod pod, string? ns, string claim) =>
        (pod.Metadata.NamespaceProperty ?? "default") == (ns ?? "default") && Claims(pod).Any(c => c.ClaimName == claim);

    public static decimal Request(V1PersistentVolumeClaim pvc) =>
        pvc.Spec?.Resources?.Requests?.TryGetValue("storage", out var r) == true ? r.ToDecimal() : 0m;

    public static decimal Capacity(V1PersistentVolume pv) =>
        pv.Spec?.Capacity?.TryGetValue("storage", out var c) == true ? c.ToDecimal() : 0m;

    public static bool IsBound(V1PersistentVolumeClaim pvc) => !string.IsNullOrEmpty(pvc.Spec?.VolumeName);

    /// <summary>checkVolumeSatisfyClaim and the static part of findMatchingVolume: same class and volume mode, every
    /// requested access mode, at least the requested storage, the claim's selector.</summary>
    public static bool Fits(V1PersistentVolume pv, V1PersistentVolumeClaim pvc)
    {
        var spec = pvc.Spec!;
        if (pv.Spec is null || pv.Metadata.DeletionTimestamp is not null) return false;
        if ((pv.Spec.StorageClassName ?? "") != (spec.StorageClassName ?? "")) return false;
        if ((pv.Spec.VolumeMode ?? "Filesystem") != (spec.VolumeMode ?? "Filesystem")) return false;
        if (!(spec.AccessModes ?? []).All(m => pv.Spec.AccessModes?.Contains(m) == true)) return false;
        if (Capacity(pv) < Request(pvc)) return false;
        return spec.Selector is null || LabelSelector.FromLabelSelector(spec.Selector).Matches(pv.Metadata.Labels);
    }

    /// <summary>Free for this claim: not bound to another (pre-bound to it, or to no one and Available).</summary>
    public static bool FreeFor(V1PersistentVolume pv, V1PersistentVolumeClaim pvc) =>
        pv.Spec?.ClaimRef is { } claimRef
            ? RefersTo(claimRef, pvc)
            : pv.Status?.Phase is "Available" or "Pending" or null;

    public static bool RefersTo(V1ObjectReference? claimRef, V1PersistentVolumeClaim pvc) =>
        claimRef is not null && claimRef.NamespaceProperty == pvc.Metadata.NamespaceProperty && claimRef.Name == pvc.Metadata.Name &&
        (string.IsNullOrEmpty(claimRef.Uid) || claimRef.Uid == pvc.Metadata.Uid);

    /// <summary>CheckNodeAffinity: no affinity admits every node; otherwise one required term must hold (matchExpressions
    /// over the node's labels, matchFields over metadata.name).</summary>
    public static bool AdmitsNode(V1PersistentVolume pv, V1Node node)
    {
        var terms = pv.Spec?.NodeAffinity?.Required?.NodeSelectorTerms;
        if (terms is not { Count: > 0 }) return true;
        var labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        var fields = new Dictionary<string, string> { ["metadata.name"] = node.Metadata.Name };
        return terms.Any(t => (t.MatchExpressions is { Count: > 0 } || t.MatchFields is { Count: > 0 }) &&
                              (t.MatchExpressions ?? []).All(e => Matches(e, labels)) &&
                              (t.MatchFields ?? []).All(e => Matches(e, fields)));
    }

    private static bool Matches(V1NodeSelectorRequirement requirement, IDictionary<string, string> labels) =>
        NodeSelectorRequirements.Matches(requirement, labels);

    /// <summary>The node a local volume lives on, when its affinity names one by hostname (how the provisioner makes them).</summary>
    public static string? NodeOf(V1PersistentVolume pv) =>
        pv.Spec?.NodeAffinity?.Required?.NodeSelectorTerms?.SelectMany(t => t.MatchExpressions ?? [])
            .FirstOrDefault(e => e.Key == "kubernetes.io/hostname" && e.OperatorProperty == "In" && e.Values?.Count == 1)?.Values[0];

    /// <summary>The directory of a volume on its node: hostPath's or local's path.</summary>
    public static string? PathOf(V1PersistentVolume pv) => pv.Spec?.HostPath?.Path ?? pv.Spec?.Local?.Path;
}
