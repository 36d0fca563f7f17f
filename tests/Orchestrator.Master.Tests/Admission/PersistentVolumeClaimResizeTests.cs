using k8s;
using k8s.Models;
using Orchestrator.Master.Admission.Storage;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Admission;

public sealed class PersistentVolumeClaimResizeTests
{
    private sealed class Classes(params V1StorageClass[] classes) : IAdmissionContext
    {
        public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null) =>
            storeName == "storageclasses" ? classes : [];
    }

    private static V1StorageClass Class(string name, bool? expandable) =>
        new() { Metadata = new V1ObjectMeta { Name = name }, Provisioner = "p", AllowVolumeExpansion = expandable };

    private static V1PersistentVolumeClaim Claim(string size, string? cls = "fast", string phase = "Bound") => new()
    {
        Metadata = new V1ObjectMeta { Name = "data", NamespaceProperty = "default" },
        Spec = new V1PersistentVolumeClaimSpec
        {
            StorageClassName = cls, AccessModes = ["ReadWriteOnce"],
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(size) } },
        },
        Status = new V1PersistentVolumeClaimStatus { Phase = phase },
    };

    private static AdmissionVerdict? Resize(V1PersistentVolumeClaim old, V1PersistentVolumeClaim now, params V1StorageClass[] classes) =>
        new PersistentVolumeClaimResize().Validate(
            new AdmissionAttributes(PersistentVolumeResources.PersistentVolumeClaims, AdmissionAttributes.Update, null, now, old),
            new Classes(classes));

    [Fact]
    public void Growing_a_bound_claim_of_an_expandable_class_is_admitted()
    {
        Assert.Null(Resize(Claim("1Gi"), Claim("2Gi"), Class("fast", true)));
    }

    [Fact]
    public void A_class_without_expansion_is_forbidden_with_kubes_message()
    {
        var refusal = Resize(Claim("1Gi"), Claim("2Gi"), Class("fast", null))!.Refusal!;
        Assert.Equal(403, refusal.Code);
        Assert.Equal("persistentvolumeclaims \"data\" is forbidden: only dynamically provisioned pvc can be resized and " +
                     "the storageclass that provisions the pvc must support resize", refusal.Message);
        Assert.NotNull(Resize(Claim("1Gi", cls: null), Claim("2Gi", cls: null), Class("fast", true))?.Refusal);
    }

    [Fact]
    public void Only_bound_claims_can_grow_and_other_changes_are_not_judged_here()
    {
        Assert.Equal("persistentvolumeclaims \"data\" is forbidden: Only bound persistent volume claims can be expanded",
            Resize(Claim("1Gi", phase: "Pending"), Claim("2Gi", phase: "Pending"), Class("fast", true))!.Refusal!.Message);
        Assert.Null(Resize(Claim("2Gi"), Claim("1Gi"), Class("fast", false)));
        Assert.Null(Resize(Claim("1Gi"), Claim("1Gi"), Class("fast", false)));
    }
}
