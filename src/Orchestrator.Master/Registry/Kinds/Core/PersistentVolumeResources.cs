using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>Core kinds beyond the first twelve: PersistentVolumes and PersistentVolumeClaims (with their status
/// subresources) and PodTemplates. Claims are stored, defaulted and validated; nothing binds or provisions them yet,
/// so a claim stays Pending as on a cluster without a volume controller.</summary>
internal static class PersistentVolumeResources
{
    public static readonly ResourceDescription PersistentVolumes = new()
    {
        Group = "", Version = "v1", Resource = "persistentvolumes", Kind = "PersistentVolume", Namespaced = false,
        ObjectType = typeof(V1PersistentVolume), Strategy = new PersistentVolumeStrategy(),
        Printer = new PersistentVolumeTablePrinter(), ShortNames = ["pv"],
        Subresources = [SubresourceDescription.Status("PersistentVolume")],
        ProtobufMessage = "k8s.io.api.core.v1.PersistentVolume",
    };

    public static readonly ResourceDescription PersistentVolumeClaims = new()
    {
        Group = "", Version = "v1", Resource = "persistentvolumeclaims", Kind = "PersistentVolumeClaim", Namespaced = true,
        ObjectType = typeof(V1PersistentVolumeClaim), Strategy = new PersistentVolumeClaimStrategy(),
        Printer = new PersistentVolumeClaimTablePrinter(), ShortNames = ["pvc"],
        Subresources = [SubresourceDescription.Status("PersistentVolumeClaim")],
        ProtobufMessage = "k8s.io.api.core.v1.PersistentVolumeClaim",
    };

    public static readonly ResourceDescription PodTemplates = new()
    {
        Group = "", Version = "v1", Resource = "podtemplates", Kind = "PodTemplate", Namespaced = true,
        ObjectType = typeof(V1PodTemplate), Strategy = new PodTemplateStrategy(), Printer = new PodTemplateTablePrinter(),
        ProtobufMessage = "k8s.io.api.core.v1.PodTemplate",
    };

    public static IReadOnlyList<ResourceDescription> All => [PersistentVolumes, PersistentVolumeClaims, PodTemplates];
}
