using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>LAST SEEN TYPE REASON OBJECT MESSAGE; wide: SUBOBJECT SOURCE FIRST SEEN COUNT NAME.</summary>
internal sealed class EventTablePrinter : TablePrinter<Corev1Event>
{
    public override IReadOnlyList<TableColumnDefinition> Columns => EventColumns.Definitions;

    protected override IReadOnlyList<object> Cells(Corev1Event e, DateTime now)
    {
        var first = e.FirstTimestamp is not null
            ? HumanDuration.Since(e.FirstTimestamp, now)
            : HumanDuration.Since(e.EventTime, now);
        var last = e.LastTimestamp is not null ? HumanDuration.Since(e.LastTimestamp, now) : first;
        var count = e.Count is > 0 ? e.Count.Value : 1;
        if (e.Series is not null)
        {
            last = HumanDuration.Since(e.Series.LastObservedTime, now);
            count = e.Series.Count ?? count;
        }
        var source = e.Source?.Component is { Length: > 0 } component
            ? string.IsNullOrEmpty(e.Source.Host) ? component : $"{component}, {e.Source.Host}"
            : e.ReportingComponent ?? "";
        return
        [
            last, e.Type ?? "", e.Reason ?? "", EventColumns.Target(e.InvolvedObject?.Kind, e.InvolvedObject?.Name),
            e.InvolvedObject?.FieldPath ?? "", source, (e.Message ?? "").Trim(), first, (long)count, e.Metadata.Name,
        ];
    }
}

internal static class EventColumns
{
    public static readonly IReadOnlyList<TableColumnDefinition> Definitions =
    [
        TableColumnDefinition.Text("Last Seen", "The last time this event occurred."),
        TableColumnDefinition.Text("Type", "Type of this event (Normal, Warning), new types could be added in the future."),
        TableColumnDefinition.Text("Reason", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
        TableColumnDefinition.Text("Object", "The object that this event is about."),
        TableColumnDefinition.Text("Subobject", "The subobject that this event is about.", 1),
        TableColumnDefinition.Text("Source", "The component reporting this event.", 1),
        TableColumnDefinition.Text("Message", "A human-readable description of the status of this operation."),
        TableColumnDefinition.Text("First Seen", "The first time this event occurred.", 1),
        TableColumnDefinition.Integer("Count", "The number of times this event has occurred.", 1),
        TableColumnDefinition.Text("Name", "The name of the event.", 1),
    ];

    public static string Target(string? kind, string? name) =>
        string.IsNullOrEmpty(name) ? (kind ?? "").ToLowerInvariant() : $"{(kind ?? "").ToLowerInvariant()}/{name}";
}
