using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE;
/// wide: VOLUMEMODE.</summary>
internal sealed class PersistentVolumeTablePrinter : TablePrinter<V1PersistentVolume>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Capacity", "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"),
        TableColumnDefinition.Text("Access Modes", "accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes"),
        TableColumnDefinition.Text("Reclaim Policy", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming"),
        TableColumnDefinition.Text("Status", "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase"),
        TableColumnDefinition.Text("Claim", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding"),
        TableColumnDefinition.Text("StorageClass", "StorageClass of the pv"),
        TableColumnDefinition.Text("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
        TableColumnDefinition.Text("Reason", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("VolumeMode", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.", 1),
    ];

    protected override IReadOnlyList<object> Cells(V1PersistentVolume pv, DateTime now)
    {
        var spec = pv.Spec ?? new V1PersistentVolumeSpec();
        var claim = spec.ClaimRef is { } c ? $"{c.NamespaceProperty}/{c.Name}" : "";
        var size = spec.Capacity?.TryGetValue("storage", out var q) == true ? q.ToString() : "0";
        var phase = pv.Metadata.DeletionTimestamp is not null ? "Terminating" : pv.Status?.Phase ?? "";
        var storageClass = pv.Metadata.Annotations?.TryGetValue(PersistentVolumeClaimStrategy.BetaStorageClassAnnotation, out var beta) == true
            ? beta : spec.StorageClassName ?? "";
        return
        [
            pv.Metadata.Name, size, Claims.ModesText(spec.AccessModes), spec.PersistentVolumeReclaimPolicy ?? "", phase, claim,
            storageClass, spec.VolumeAttributesClassName ?? "<unset>", pv.Status?.Reason ?? "", Age(pv, now),
            spec.VolumeMode ?? "<unset>",
        ];
    }
}

/// <summary>NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE; wide: VOLUMEMODE. Capacity
/// and access modes are the bound volume's (empty until bound).</summary>
internal sealed class PersistentVolumeClaimTablePrinter : TablePrinter<V1PersistentVolumeClaim>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Status", "phase represents the current phase of PersistentVolumeClaim."),
        TableColumnDefinition.Text("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim."),
        TableColumnDefinition.Text("Capacity", "capacity represents the actual resources of the underlying volume."),
        TableColumnDefinition.Text("Access Modes", "accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"),
        TableColumnDefinition.Text("StorageClass", "StorageClass of the pvc"),
        TableColumnDefinition.Text("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("VolumeMode", "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.", 1),
    ];

    protected override IReadOnlyList<object> Cells(V1PersistentVolumeClaim pvc, DateTime now)
    {
        var spec = pvc.Spec ?? new V1PersistentVolumeClaimSpec();
        var phase = pvc.Metadata.DeletionTimestamp is not null ? "Terminating" : pvc.Status?.Phase ?? "";
        var bound = !string.IsNullOrEmpty(spec.VolumeName);
        var capacity = bound ? (pvc.Status?.Capacity?.TryGetValue("storage", out var q) == true ? q.ToString() : "0") : "";
        var modes = bound ? Claims.ModesText(pvc.Status?.AccessModes) : "";
        var storageClass = pvc.Metadata.Annotations?.TryGetValue(PersistentVolumeClaimStrategy.BetaStorageClassAnnotation, out var beta) == true
            ? beta : spec.StorageClassName ?? "";
        return
        [
            pvc.Metadata.Name, phase, spec.VolumeName ?? "", capacity, modes, storageClass,
            spec.VolumeAttributesClassName ?? "<unset>", Age(pvc, now), spec.VolumeMode ?? "<unset>",
        ];
    }
}

/// <summary>NAME CONTAINERS IMAGES POD LABELS.</summary>
internal sealed class PodTemplateTablePrinter : TablePrinter<V1PodTemplate>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Containers", "Names of each container in the template."),
        TableColumnDefinition.Text("Images", "Images referenced by each container in the template."),
        TableColumnDefinition.Text("Pod Labels", "The labels for the pod template."),
    ];

    protected override IReadOnlyList<object> Cells(V1PodTemplate template, DateTime now) =>
    [
        template.Metadata.Name, ContainerNames(template.Template), ContainerImages(template.Template),
        FormatLabels(template.Template?.Metadata?.Labels),
    ];
}
