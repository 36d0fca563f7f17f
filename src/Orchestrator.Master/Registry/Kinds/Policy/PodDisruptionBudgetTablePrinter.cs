using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Policy;

/// <summary>NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE ("N/A" for the bound not given).</summary>
internal sealed class PodDisruptionBudgetTablePrinter : TablePrinter<V1PodDisruptionBudget>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Min Available", "The minimum number of pods that must be available simultaneously. This can be either an integer or a string specifying a percentage, e.g. \"28%\"."),
        TableColumnDefinition.Text("Max Unavailable", "The maximum number of pods that may be unavailable simultaneously. This can be either an integer or a string specifying a percentage, e.g. \"28%\"."),
        TableColumnDefinition.Integer("Allowed Disruptions", "Calculated number of pods that may be disrupted at this time."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1PodDisruptionBudget pdb, DateTime now) =>
    [
        pdb.Metadata.Name, pdb.Spec?.MinAvailable?.Value ?? "N/A", pdb.Spec?.MaxUnavailable?.Value ?? "N/A",
        (long)(pdb.Status?.DisruptionsAllowed ?? 0), Age(pdb, now),
    ];
}
