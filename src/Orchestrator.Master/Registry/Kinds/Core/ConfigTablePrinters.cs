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

/// <summary>NAME SECRETS AGE.</summary>
internal sealed class ServiceAccountTablePrinter : TablePrinter<V1ServiceAccount>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Secrets",
            "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1ServiceAccount sa, DateTime now) =>
        [sa.Metadata.Name, (long)(sa.Secrets?.Count ?? 0), Age(sa, now)];
}
