using System.Globalization;
using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>NAME AGE REQUEST LIMIT: "resource: used/hard" per status.hard resource, limits.* under LIMIT.</summary>
internal sealed class ResourceQuotaTablePrinter : TablePrinter<V1ResourceQuota>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("Request", "Request represents a minimum amount of cpu/memory that a container may consume."),
        TableColumnDefinition.Text("Limit", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
    ];

    protected override IReadOnlyList<object> Cells(V1ResourceQuota quota, DateTime now)
    {
        var requests = new List<string>();
        var limits = new List<string>();
        // kubectl's printResourceQuota: spec.hard's names, with status' used and hard amounts (0 until known).
        foreach (var name in (quota.Spec?.Hard ?? new Dictionary<string, ResourceQuantity>()).Keys.Order(StringComparer.Ordinal))
        {
            var used = quota.Status?.Used is { } u && u.TryGetValue(name, out var q) ? q.ToString() : "0";
            var hard = quota.Status?.Hard is { } h && h.TryGetValue(name, out var limit) ? limit.ToString() : "0";
            var text = $"{name}: {used}/{hard}";
            if (name.Split('.') is { Length: > 1 } pieces && pieces[0] == "limits") limits.Add(text);
            else requests.Add(text);
        }
        return [quota.Metadata.Name, Age(quota, now), string.Join(", ", requests), string.Join(", ", limits)];
    }
}

/// <summary>NAME CREATED AT (the creation time in RFC 3339).</summary>
internal sealed class LimitRangeTablePrinter : TablePrinter<V1LimitRange>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Created At", "CreationTimestamp is a timestamp representing the server time when this object was created."),
    ];

    protected override IReadOnlyList<object> Cells(V1LimitRange limitRange, DateTime now) =>
    [
        limitRange.Metadata.Name,
        limitRange.Metadata.CreationTimestamp is { } created
            ? HumanDuration.Utc(created).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : "<unknown>",
    ];
}
