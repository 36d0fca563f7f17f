using k8s.Models;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Events;

/// <summary>events.k8s.io/v1 events, printed like core events.</summary>
internal sealed class EventsV1TablePrinter : TablePrinter<Eventsv1Event>
{
    public override IReadOnlyList<TableColumnDefinition> Columns => EventColumns.Definitions;

    protected override IReadOnlyList<object> Cells(Eventsv1Event e, DateTime now)
    {
        var first = e.DeprecatedFirstTimestamp is not null
            ? HumanDuration.Since(e.DeprecatedFirstTimestamp, now)
            : HumanDuration.Since(e.EventTime, now);
        var last = e.Series is not null ? HumanDuration.Since(e.Series.LastObservedTime, now)
            : e.DeprecatedLastTimestamp is not null ? HumanDuration.Since(e.DeprecatedLastTimestamp, now) : first;
        var count = e.Series?.Count ?? (e.DeprecatedCount is > 0 ? e.DeprecatedCount.Value : 1);
        return
        [
            last, e.Type ?? "", e.Reason ?? "", EventColumns.Target(e.Regarding?.Kind, e.Regarding?.Name),
            e.Regarding?.FieldPath ?? "", e.ReportingController ?? "", (e.Note ?? "").Trim(), first, (long)count,
            e.Metadata.Name,
        ];
    }
}
