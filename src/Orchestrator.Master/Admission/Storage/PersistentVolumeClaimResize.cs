using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Admission.Storage;

/// <summary>
/// Kubernetes' PersistentVolumeClaimResize admission plugin: a claim's storage request may grow only while the claim
/// is bound and its StorageClass (the same before and after) allows volume expansion; otherwise 403 with kube's
/// messages. Shrinking and other spec changes are the kind's validation (422), as in Kubernetes.
/// </summary>
internal sealed class PersistentVolumeClaimResize : IValidatingAdmission
{
    private const string BetaClassAnnotation = "volume.beta.kubernetes.io/storage-class";

    public AdmissionVerdict? Validate(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (attributes.Resource is not { Group: "", Resource: "persistentvolumeclaims" } || attributes.Subresource is not null ||
            attributes.Object is not V1PersistentVolumeClaim claim || attributes.Old is not V1PersistentVolumeClaim old)
            return null;
        var oldSize = Storage(old);
        var newSize = Storage(claim);
        if (newSize is null || (oldSize is not null && newSize.ToDecimal() <= oldSize.ToDecimal())) return null;
        var name = claim.Metadata.Name ?? "";
        if (old.Status?.Phase != "Bound")
            return Refuse(attributes.Resource, name, "Only bound persistent volume claims can be expanded");
        if (!AllowsResize(ClassOf(claim), ClassOf(old), context))
            return Refuse(attributes.Resource, name,
                "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize");
        return null;
    }

    private static ResourceQuantity? Storage(V1PersistentVolumeClaim claim) =>
        claim.Spec?.Resources?.Requests?.TryGetValue("storage", out var size) == true ? size : null;

    /// <summary>The claim's class as kube's GetPersistentVolumeClaimClass reads it: the beta annotation first.</summary>
    private static string ClassOf(V1PersistentVolumeClaim claim) =>
        claim.Metadata.Annotations?.TryGetValue(BetaClassAnnotation, out var beta) == true ? beta : claim.Spec?.StorageClassName ?? "";

    private static bool AllowsResize(string now, string before, IAdmissionContext context) =>
        now.Length > 0 && now == before &&
        context.List("storageclasses").OfType<V1StorageClass>().Any(sc => sc.Metadata.Name == now && sc.AllowVolumeExpansion == true);

    private static AdmissionVerdict Refuse(IStoredResource resource, string name, string reason) =>
        new(StoreErrors.Forbidden(resource, name, reason), [], new Dictionary<string, string>());
}
