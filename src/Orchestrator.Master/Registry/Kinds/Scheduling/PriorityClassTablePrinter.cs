using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Scheduling;

/// <summary>NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY.</summary>
internal sealed class PriorityClassTablePrinter : TablePrinter<V1PriorityClass>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Integer("Value", "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec."),
        TableColumnDefinition.Text("Global-Default", "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`."),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("PreemptionPolicy", "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."),
    ];

    protected override IReadOnlyList<object> Cells(V1PriorityClass pc, DateTime now) =>
        [pc.Metadata.Name, (long)(pc.Value ?? 0), pc.GlobalDefault == true ? "true" : "false", Age(pc, now), pc.PreemptionPolicy ?? "PreemptLowerPriority"];
}
