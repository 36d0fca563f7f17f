using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.StatefulSets;

/// <summary>
/// The claims of Kubernetes' StatefulSet controller (stateful_set_utils.go): one PersistentVolumeClaim per
/// volumeClaimTemplate and ordinal, named <c>&lt;template&gt;-&lt;set&gt;-&lt;ordinal&gt;</c>, labelled with the template's
/// labels and the set's selector; the pod's volume of the template's name refers to it; and the owner references
/// persistentVolumeClaimRetentionPolicy asks for, so that the garbage collector deletes a claim with its set
/// (whenDeleted: Delete) or with its scaled-down pod (whenScaled: Delete), and never otherwise.
/// </summary>
internal static class StatefulClaims
{
    public static string Name(V1StatefulSet set, string template, int ordinal) => $"{template}-{set.Metadata.Name}-{ordinal}";

    /// <summary>Kubernetes' getPersistentVolumeClaims: the claims the pod of <paramref name="ordinal"/> mounts.</summary>
    public static IReadOnlyList<V1PersistentVolumeClaim> For(V1StatefulSet set, int ordinal)
    {
        var claims = new List<V1PersistentVolumeClaim>();
        foreach (var template in set.Spec.VolumeClaimTemplates ?? [])
        {
            var labels = template.Metadata?.Labels is { } l ? new Dictionary<string, string>(l) : new Dictionary<string, string>();
            foreach (var (key, value) in set.Spec.Selector?.MatchLabels ?? new Dictionary<string, string>()) labels[key] = value;
            claims.Add(new V1PersistentVolumeClaim
            {
                ApiVersion = "v1",
                Kind = "PersistentVolumeClaim",
                Metadata = new V1ObjectMeta
                {
                    Name = Name(set, template.Metadata!.Name, ordinal),
                    NamespaceProperty = set.Metadata.NamespaceProperty,
                    Labels = labels,
                    Annotations = template.Metadata.Annotations is { } a ? new Dictionary<string, string>(a) : null,
                },
                Spec = KubeObjects.Clone(template.Spec ?? new V1PersistentVolumeClaimSpec()),
            });
        }
        return claims;
    }

    /// <summary>Kubernetes' updateStorage: each template becomes a persistentVolumeClaim volume of its name, replacing a
    /// template volume of the same name; the other volumes stay.</summary>
    public static void Mount(V1StatefulSet set, V1PodSpec spec, int ordinal)
    {
        var templates = set.Spec.VolumeClaimTemplates ?? [];
        if (templates.Count == 0) return;
        var volumes = templates.Select(t => new V1Volume
        {
            Name = t.Metadata.Name,
            PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = Name(set, t.Metadata.Name, ordinal) },
        }).ToList();
        volumes.AddRange((spec.Volumes ?? []).Where(v => templates.All(t => t.Metadata.Name != v.Name)));
        spec.Volumes = volumes;
    }

    /// <summary>Kubernetes' updateClaimOwnerRefForSetAndPod: the owner references the claim of <paramref name="pod"/> must
    /// have under the set's retention policy (a reference to the set as controller when whenDeleted is Delete and the
    /// pod is in range; a reference to the pod once it is scaled down when whenScaled is Delete), or null when they
    /// already are right. References to other owners stay.</summary>
    public static List<V1OwnerReference>? OwnersFor(V1PersistentVolumeClaim claim, V1StatefulSet set, V1Pod pod, bool scaledDown)
    {
        var policy = set.Spec.PersistentVolumeClaimRetentionPolicy;
        var deleteWithSet = policy?.WhenDeleted == "Delete";
        var deleteWhenScaled = policy?.WhenScaled == "Delete";
        var ownedBySet = deleteWithSet && !(deleteWhenScaled && scaledDown);
        var ownedByPod = deleteWhenScaled && scaledDown;

        var current = claim.Metadata.OwnerReferences ?? [];
        var next = current.Where(r => r.Uid != set.Metadata.Uid && r.Uid != pod.Metadata.Uid).ToList();
        if (ownedBySet) next.Add(current.FirstOrDefault(r => r.Uid == set.Metadata.Uid) ?? OwnerReferences.NewControllerRef(set));
        if (ownedByPod)
            next.Add(current.FirstOrDefault(r => r.Uid == pod.Metadata.Uid)
                     ?? new V1OwnerReference { ApiVersion = "v1", Kind = "Pod", Name = pod.Metadata.Name, Uid = pod.Metadata.Uid });
        var same = next.Count == current.Count && next.All(r => current.Any(c => c.Uid == r.Uid));
        return same ? null : next;
    }
}
