using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>NAME STATUS AGE.</summary>
internal sealed class NamespaceTablePrinter : TablePrinter<V1Namespace>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Status", "The status of the namespace"),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1Namespace ns, DateTime now) =>
        [ns.Metadata.Name, ns.Status?.Phase ?? "Active", Age(ns, now)];
}

/// <summary>NAME DATA AGE.</summary>
internal sealed class ConfigMapTablePrinter : TablePrinter<V1ConfigMap>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Integer("Data", "Number of data entries in the ConfigMap."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1ConfigMap cm, DateTime now) =>
        [cm.Metadata.Name, (long)((cm.Data?.Count ?? 0) + (cm.BinaryData?.Count ?? 0)), Age(cm, now)];
}

/// <summary>NAME TYPE DATA AGE.</summary>
internal sealed class SecretTablePrinter : TablePrinter<V1Secret>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Type", "The type of the secret"),
        TableColumnDefinition.Integer("Data", "The number of data entries in the secret"),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1Secret s, DateTime now) =>
        [s.Metadata.Name, s.Type ?? "Opaque", (long)((s.Data?.Count ?? 0) + (s.StringData?.Count ?? 0)), Age(s, now)];
}
