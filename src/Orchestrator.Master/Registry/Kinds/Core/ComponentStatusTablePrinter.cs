using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary><c>kubectl get componentstatuses</c>: NAME, STATUS (Healthy, Unhealthy or Unknown, from the Healthy
/// condition), MESSAGE and ERROR, as Kubernetes' printComponentStatus.</summary>
internal sealed class ComponentStatusTablePrinter : TablePrinter<V1ComponentStatus>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Status", "Status of the component conditions"),
        TableColumnDefinition.Text("Message", "Message of the component conditions"),
        TableColumnDefinition.Text("Error", "Error of the component conditions"),
    ];

    protected override IReadOnlyList<object> Cells(V1ComponentStatus cs, DateTime now)
    {
        var healthy = cs.Conditions?.FirstOrDefault(c => c?.Type == "Healthy");
        var status = healthy is null ? "Unknown" : healthy.Status == "True" ? "Healthy" : "Unhealthy";
        return [cs.Metadata?.Name ?? "", status, healthy?.Message ?? "", healthy?.Error ?? ""];
    }
}
