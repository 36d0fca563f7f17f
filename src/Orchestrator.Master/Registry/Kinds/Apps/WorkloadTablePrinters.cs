using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Apps;

/// <summary>NAME READY UP-TO-DATE AVAILABLE AGE; wide: CONTAINERS IMAGES SELECTOR.</summary>
internal sealed class DeploymentTablePrinter : TablePrinter<V1Deployment>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Ready", "Number of the pod with ready state"),
        TableColumnDefinition.Integer("Up-to-date", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
        TableColumnDefinition.Integer("Available", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("Containers", "Names of each container in the template.", 1),
        TableColumnDefinition.Text("Images", "Images referenced by each container in the template.", 1),
        TableColumnDefinition.Text("Selector", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.", 1),
    ];

    protected override IReadOnlyList<object> Cells(V1Deployment d, DateTime now) =>
    [
        d.Metadata.Name,
        $"{d.Status?.ReadyReplicas ?? 0}/{d.Spec?.Replicas ?? 1}",
        (long)(d.Status?.UpdatedReplicas ?? 0),
        (long)(d.Status?.AvailableReplicas ?? 0),
        Age(d, now),
        ContainerNames(d.Spec?.Template), ContainerImages(d.Spec?.Template), FormatSelector(d.Spec?.Selector),
    ];
}

/// <summary>NAME DESIRED CURRENT READY AGE; wide: CONTAINERS IMAGES SELECTOR.</summary>
internal sealed class ReplicaSetTablePrinter : TablePrinter<V1ReplicaSet>
{
    public override IReadOnlyList<TableColumnDefinition> Columns => ReplicaColumns.Definitions;

    protected override IReadOnlyList<object> Cells(V1ReplicaSet rs, DateTime now) =>
    [
        rs.Metadata.Name, (long)(rs.Spec?.Replicas ?? 1), (long)(rs.Status?.Replicas ?? 0),
        (long)(rs.Status?.ReadyReplicas ?? 0), Age(rs, now),
        ContainerNames(rs.Spec?.Template), ContainerImages(rs.Spec?.Template), FormatSelector(rs.Spec?.Selector),
    ];
}

/// <summary>Same columns as ReplicaSets; the selector is a plain map.</summary>
internal sealed class ReplicationControllerTablePrinter : TablePrinter<V1ReplicationController>
{
    public override IReadOnlyList<TableColumnDefinition> Columns => ReplicaColumns.Definitions;

    protected override IReadOnlyList<object> Cells(V1ReplicationController rc, DateTime now) =>
    [
        rc.Metadata.Name, (long)(rc.Spec?.Replicas ?? 1), (long)(rc.Status?.Replicas ?? 0),
        (long)(rc.Status?.ReadyReplicas ?? 0), Age(rc, now),
        ContainerNames(rc.Spec?.Template), ContainerImages(rc.Spec?.Template), FormatLabels(rc.Spec?.Selector),
    ];
}

internal static class ReplicaColumns
{
    public static readonly IReadOnlyList<TableColumnDefinition> Definitions =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Integer("Desired", "Replicas is the number of desired replicas."),
        TableColumnDefinition.Integer("Current", "Replicas is the most recently observed number of replicas."),
        TableColumnDefinition.Integer("Ready", "The number of ready replicas for this replica set."),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("Containers", "Names of each container in the template.", 1),
        TableColumnDefinition.Text("Images", "Images referenced by each container in the template.", 1),
        TableColumnDefinition.Text("Selector", "Selector is a label query over pods that should match the replica count.", 1),
    ];
}
