using k8s.Models;

namespace Orchestrator.Master.Registry.Tables;

/// <summary>
/// The autoscaling/v1 Scale of any scalable kind (<c>kubectl get deployment web --subresource=scale</c>), as kube's
/// printScale prints it: NAME (without the name format), DESIRED (spec.replicas), AVAILABLE (status.replicas), AGE.
/// </summary>
internal sealed class ScaleTablePrinter : TablePrinter<V1Scale>
{
    public static ScaleTablePrinter Instance { get; } = new();

    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.Text("Name", TableColumnDefinition.NameColumn.Description),
        TableColumnDefinition.Integer("Desired", "replicas is the desired number of instances for the scaled object."),
        TableColumnDefinition.Integer("Available", "replicas is the actual number of observed instances of the scaled object."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1Scale scale, DateTime now) =>
        [scale.Metadata?.Name ?? "", (long)(scale.Spec?.Replicas ?? 0), (long)(scale.Status?.Replicas ?? 0), Age(scale, now)];
}
