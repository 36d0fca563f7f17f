using System.Globalization;
using System.Text;
using Orchestrator.Master.Api.Authorization;

namespace Orchestrator.Master.Api.FlowControl;

/// <summary>One moment of the flow control's state, for the debug dumps.</summary>
internal sealed record FlowControlDump(IReadOnlyList<LevelDump> Levels);

/// <summary>A priority level: its counts and queues, and its running requests with the queue each came from (-1: it
/// got a seat without waiting).</summary>
internal sealed record LevelDump(string Name, bool Exempt, bool Retired, int Waiting, int Executing, long Dispatched, long Rejected,
    long TimedOut, long Cancelled, IReadOnlyList<QueueDump> Queues, IReadOnlyList<(int Queue, RequestDump Request)> Running);

internal sealed record QueueDump(int Pending, int Executing, IReadOnlyList<RequestDump> Waiting);

/// <summary>A request: its FlowSchema and flow distinguisher, when it arrived and when it got its seat (null: waiting).</summary>
internal sealed record RequestDump(string FlowSchema, string Distinguisher, DateTime Arrived, DateTime? Started, AuthorizationAttributes? Request);

/// <summary>
/// kube-apiserver's API Priority and Fairness debug endpoints (<c>/debug/api_priority_and_fairness/dump_priority_levels</c>,
/// <c>dump_queues</c>, <c>dump_requests</c> with <c>?includeRequestDetails=1</c>): the same columns, comma-separated and
/// aligned as Go's tabwriter aligns them, so the APF documentation's commands answer here. They are non-resource URLs:
/// RBAC decides who reads them (cluster-admin does). Where our limiter is simpler than kube's, the columns say what it
/// does: every request takes one seat (InitialSeats 1, FinalSeats 0, AdditionalLatency 0s), and the queues are served in
/// turn without kube's virtual time, so NextDispatchR and TotalWorkSum are always 0.
/// </summary>
internal static class FlowControlDebug
{
    private const string Prefix = "/debug/api_priority_and_fairness/";
    private const string NoVirtualTime = "0.00000000ss";

    public static IEndpointRouteBuilder MapFlowControlDebug(this IEndpointRouteBuilder app)
    {
        app.MapGet(Prefix + "dump_priority_levels", context => WriteAsync(context, PriorityLevels(Limiter(context).Dump())));
        app.MapGet(Prefix + "dump_queues", context => WriteAsync(context, Queues(Limiter(context).Dump())));
        app.MapGet(Prefix + "dump_requests", context => WriteAsync(context,
            Requests(Limiter(context).Dump(), context.Request.Query["includeRequestDetails"].ToString().Length > 0)));
        return app;
    }

    private static FlowControlLimiter Limiter(HttpContext context) => context.RequestServices.GetRequiredService<FlowControlLimiter>();

    internal static string PriorityLevels(FlowControlDump dump)
    {
        var rows = new List<string[]>
        {
            new[] { "PriorityLevelName", "ActiveQueues", "IsIdle", "IsQuiescing", "WaitingRequests", "ExecutingRequests",
                "DispatchedRequests", "RejectedRequests", "TimedoutRequests", "CancelledRequests" },
        };
        foreach (var level in dump.Levels)
            rows.Add([level.Name, Int(level.Queues.Count(q => q.Pending > 0)),
                // kube's exempt levels are never idle (their queue set does not count)
                Bool(!level.Exempt && level.Waiting == 0 && level.Executing == 0), Bool(level.Retired),
                Int(level.Waiting), Int(level.Executing), Long(level.Dispatched), Long(level.Rejected), Long(level.TimedOut),
                Long(level.Cancelled)]);
        return Table(rows);
    }

    internal static string Queues(FlowControlDump dump)
    {
        var rows = new List<string[]>
        {
            new[] { "PriorityLevelName", "Index", "PendingRequests", "ExecutingRequests", "SeatsInUse", "NextDispatchR",
                "InitialSeatsSum", "MaxSeatsSum", "TotalWorkSum" },
        };
        foreach (var level in dump.Levels)
            for (var i = 0; i < level.Queues.Count; i++)
            {
                var queue = level.Queues[i];
                rows.Add([level.Name, Int(i), Int(queue.Pending), Int(queue.Executing), Int(queue.Executing), NoVirtualTime,
                    Int(queue.Pending), Int(queue.Pending), NoVirtualTime]);
            }
        return Table(rows);
    }

    internal static string Requests(FlowControlDump dump, bool details)
    {
        string[] header = ["PriorityLevelName", "FlowSchemaName", "QueueIndex", "RequestIndexInQueue", "FlowDistingsher", "ArriveTime",
            "InitialSeats", "FinalSeats", "AdditionalLatency", "StartTime"];
        string[] detailHeader = ["UserName", "Verb", "APIPath", "Namespace", "Name", "APIVersion", "Resource", "SubResource"];
        var rows = new List<string[]> { details ? [.. header, .. detailHeader] : header };
        foreach (var level in dump.Levels)
        {
            for (var q = 0; q < level.Queues.Count; q++)
                for (var r = 0; r < level.Queues[q].Waiting.Count; r++)
                    rows.Add(RequestRow(level.Name, q, r, level.Queues[q].Waiting[r], details));
            foreach (var (queue, request) in level.Running)
                rows.Add(RequestRow(level.Name, queue, -1, request, details));
        }
        return Table(rows);
    }

    private static string[] RequestRow(string level, int queue, int index, RequestDump request, bool details)
    {
        string[] row = [level, request.FlowSchema, Int(queue), Int(index), request.Distinguisher, Time(request.Arrived), "1", "0", "0s",
            Time(request.Started ?? DateTime.MinValue)];
        if (!details) return row;
        var r = request.Request;
        var version = r is null ? "" : r.ApiGroup.Length == 0 ? r.ApiVersion : r.ApiVersion.Length == 0 ? r.ApiGroup : $"{r.ApiGroup}/{r.ApiVersion}";
        return [.. row, r?.User.Name ?? "", r?.Verb ?? "", r?.Path ?? "", r?.Namespace ?? "", r?.Name ?? "", version, r?.Resource ?? "",
            r?.Subresource ?? ""];
    }

    /// <summary>Go's time.RFC3339Nano of a UTC time (trailing zeros of the fraction dropped); the zero time as Go prints it.</summary>
    private static string Time(DateTime time) => time == DateTime.MinValue
        ? "0001-01-01T00:00:00Z"
        : time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture) + "Z";

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
    private static string Long(long value) => value.ToString(CultureInfo.InvariantCulture);
    private static string Bool(bool value) => value ? "true" : "false";

    /// <summary>The rows as kube writes them: cells joined by ",\t" through Go's tabwriter (minwidth 8, padding 1, spaces),
    /// so every cell but a row's last is padded to its column's width.</summary>
    internal static string Table(IReadOnlyList<string[]> rows)
    {
        var widths = new int[rows.Max(r => r.Length)];
        foreach (var row in rows)
            for (var i = 0; i < row.Length - 1; i++)
                widths[i] = Math.Max(widths[i], Math.Max(8, row[i].Length + 2)); // the cell, its comma and one space
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length - 1; i++) text.Append((row[i] + ",").PadRight(widths[i]));
            text.Append(row[^1]).Append('\n');
        }
        return text.ToString();
    }

    private static Task WriteAsync(HttpContext context, string body)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return context.Response.WriteAsync(body);
    }
}
