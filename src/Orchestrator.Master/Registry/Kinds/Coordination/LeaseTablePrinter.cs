using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Coordination;

/// <summary>NAME HOLDER AGE.</summary>
internal sealed class LeaseTablePrinter : TablePrinter<V1Lease>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Holder", "holderIdentity contains the identity of the holder of a current lease."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1Lease lease, DateTime now) =>
        [lease.Metadata.Name, lease.Spec?.HolderIdentity ?? "", Age(lease, now)];
}
