using Orchestrator.Shared.Api;
using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Storage;

/// <summary>NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE; the default class's name reads
/// "standard (default)".</summary>
internal sealed class StorageClassTablePrinter : TablePrinter<V1StorageClass>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Provisioner", "provisioner indicates the type of the provisioner."),
        TableColumnDefinition.Text("ReclaimPolicy", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete."),
        TableColumnDefinition.Text("VolumeBindingMode", "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature."),
        TableColumnDefinition.Text("AllowVolumeExpansion", "allowVolumeExpansion shows whether the storage class allow volume expand."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1StorageClass sc, DateTime now) =>
    [
        StorageClassStrategy.IsDefault(sc.Metadata) ? sc.Metadata.Name + " (default)" : sc.Metadata.Name,
        sc.Provisioner ?? "", sc.ReclaimPolicy ?? "Delete", sc.VolumeBindingMode ?? "Immediate",
        sc.AllowVolumeExpansion ?? false, Age(sc, now),
    ];
}

/// <summary>NAME ATTACHREQUIRED PODINFOONMOUNT STORAGECAPACITY TOKENREQUESTS REQUIRESREPUBLISH MODES AGE.</summary>
internal sealed class CsiDriverTablePrinter : TablePrinter<V1CSIDriver>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        new("AttachRequired", "boolean", "", "attachRequired indicates this CSI volume driver requires an attach operation.", 0),
        new("PodInfoOnMount", "boolean", "", "podInfoOnMount indicates this CSI volume driver requires additional pod information during mount operations.", 0),
        new("StorageCapacity", "boolean", "", "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity.", 0),
        TableColumnDefinition.Text("TokenRequests", "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication."),
        new("RequiresRepublish", "boolean", "", "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically called to reflect any possible change in the mounted volume.", 0),
        TableColumnDefinition.Text("Modes", "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1CSIDriver driver, DateTime now)
    {
        var spec = driver.Spec ?? new V1CSIDriverSpec();
        var modes = string.Join(",", spec.VolumeLifecycleModes ?? []);
        var tokens = spec.TokenRequests is null ? "<unset>" : string.Join(",", spec.TokenRequests.Select(t => t.Audience));
        return
        [
            driver.Metadata.Name, spec.AttachRequired ?? true, spec.PodInfoOnMount ?? false, spec.StorageCapacity ?? false,
            tokens, spec.RequiresRepublish ?? false, modes.Length == 0 ? None : modes, Age(driver, now),
        ];
    }
}

/// <summary>NAME DRIVERS AGE.</summary>
internal sealed class CsiNodeTablePrinter : TablePrinter<V1CSINode>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Integer("Drivers", "Drivers indicates the number of CSI drivers registered on the node"),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1CSINode node, DateTime now) =>
        [node.Metadata.Name, (long)(node.Spec?.Drivers?.Count ?? 0), Age(node, now)];
}

/// <summary>NAME ATTACHER PV NODE ATTACHED AGE.</summary>
internal sealed class VolumeAttachmentTablePrinter : TablePrinter<V1VolumeAttachment>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        new("Attacher", "string", "name", "attacher indicates the name of the volume driver that MUST handle this request. This is the name returned by GetPluginName().", 0),
        TableColumnDefinition.Text("PV", "persistentVolumeName represents the name of the persistent volume to attach."),
        TableColumnDefinition.Text("Node", "nodeName represents the node that the volume should be attached to."),
        new("Attached", "boolean", "", "attached indicates the volume is successfully attached. This field must only be set by the entity completing the attach operation, i.e. the external-attacher.", 0),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1VolumeAttachment va, DateTime now) =>
    [
        va.Metadata.Name, va.Spec?.Attacher ?? "", va.Spec?.Source?.PersistentVolumeName ?? "", va.Spec?.NodeName ?? "",
        va.Status?.Attached ?? false, Age(va, now),
    ];
}

/// <summary>NAME STORAGECLASSNAME CAPACITY (kube prints no age for these).</summary>
internal sealed class CsiStorageCapacityTablePrinter : TablePrinter<V1CSIStorageCapacity>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("StorageClassName", "storageClassName represents the name of the StorageClass that the reported capacity applies to. It must meet the same requirements as the name of a StorageClass object (non-empty, DNS subdomain). If that object no longer exists, the CSIStorageCapacity object is obsolete and should be removed by its creator. This field is immutable."),
        TableColumnDefinition.Text("Capacity", "capacity is the value reported by the CSI driver in its GetCapacityResponse for a GetCapacityRequest with topology and parameters that match the previous fields.\n\nThe semantic is currently (CSI spec 1.2) defined as: The available capacity, in bytes, of the storage that can be used to provision volumes. If not set, that information is currently unavailable."),
    ];

    protected override IReadOnlyList<object> Cells(V1CSIStorageCapacity capacity, DateTime now) =>
        [capacity.Metadata.Name, capacity.StorageClassName ?? "", capacity.Capacity is { } quantity ? Quantities.Text(quantity) : "<unset>"];
}
