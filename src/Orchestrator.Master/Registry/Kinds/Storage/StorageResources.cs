using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Storage;

/// <summary>The storage.k8s.io group: StorageClasses, and the CSI objects (CSIDriver, CSINode, CSIStorageCapacity, VolumeAttachment),
/// stored and validated as the API server does. Nothing here provisions or attaches volumes: a claim naming a class
/// stays Pending as on a cluster without that provisioner.</summary>
internal static class StorageResources
{
    public const string Group = "storage.k8s.io";

    public static readonly ResourceDescription StorageClasses = new()
    {
        Group = Group, Version = "v1", Resource = "storageclasses", Kind = "StorageClass", Namespaced = false,
        ObjectType = typeof(V1StorageClass), Strategy = new StorageClassStrategy(), Printer = new StorageClassTablePrinter(),
        ShortNames = ["sc"], ProtobufMessage = "k8s.io.api.storage.v1.StorageClass",
    };

    public static readonly ResourceDescription CsiDrivers = new()
    {
        Group = Group, Version = "v1", Resource = "csidrivers", Kind = "CSIDriver", Namespaced = false,
        ObjectType = typeof(V1CSIDriver), Strategy = new CsiDriverStrategy(), Printer = new CsiDriverTablePrinter(),
        ProtobufMessage = "k8s.io.api.storage.v1.CSIDriver",
    };

    public static readonly ResourceDescription CsiNodes = new()
    {
        Group = Group, Version = "v1", Resource = "csinodes", Kind = "CSINode", Namespaced = false,
        ObjectType = typeof(V1CSINode), Strategy = new CsiNodeStrategy(), Printer = new CsiNodeTablePrinter(),
        ProtobufMessage = "k8s.io.api.storage.v1.CSINode",
    };

    public static readonly ResourceDescription VolumeAttachments = new()
    {
        Group = Group, Version = "v1", Resource = "volumeattachments", Kind = "VolumeAttachment", Namespaced = false,
        ObjectType = typeof(V1VolumeAttachment), Strategy = new VolumeAttachmentStrategy(),
        Printer = new VolumeAttachmentTablePrinter(), Subresources = [SubresourceDescription.Status("VolumeAttachment")],
        ProtobufMessage = "k8s.io.api.storage.v1.VolumeAttachment",
    };

    public static readonly ResourceDescription CsiStorageCapacities = new()
    {
        Group = Group, Version = "v1", Resource = "csistoragecapacities", Kind = "CSIStorageCapacity", Namespaced = true,
        ObjectType = typeof(V1CSIStorageCapacity), Strategy = new CsiStorageCapacityStrategy(), Printer = new CsiStorageCapacityTablePrinter(),
        ProtobufMessage = "k8s.io.api.storage.v1.CSIStorageCapacity",
    };

    public static IReadOnlyList<ResourceDescription> All => [CsiDrivers, CsiNodes, CsiStorageCapacities, StorageClasses, VolumeAttachments];
}
