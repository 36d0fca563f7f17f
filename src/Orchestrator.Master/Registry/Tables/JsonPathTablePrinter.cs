using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Tables;

/// <summary>One column of a JSONPath printer (a CRD's additionalPrinterColumns entry).</summary>
internal sealed record JsonPathColumn(string Name, string Type, string? Format, string? Description, int Priority, string JsonPath);

/// <summary>
/// Tables from JSONPath columns, as the API server prints custom resources: Name first, then each column's first
/// match — integers and numbers as numbers, booleans as booleans, dates as ages ("5m"), anything else as text;
/// a column without a match is empty.
/// </summary>
internal sealed class JsonPathTablePrinter : ITablePrinter
{
    private readonly IReadOnlyList<(JsonPathColumn Column, JsonPath Path)> _columns;

    public JsonPathTablePrinter(IReadOnlyList<JsonPathColumn> columns)
    {
        _columns = columns.Select(c => (c, JsonPath.Parse(c.JsonPath))).ToList();
        Columns =
        [
            TableColumnDefinition.NameColumn,
            .. columns.Select(c => new TableColumnDefinition(c.Name, c.Type, c.Format ?? "", c.Description ?? "", c.Priority)),
        ];
    }

    public IReadOnlyList<TableColumnDefinition> Columns { get; }

    public IReadOnlyList<object> Cells(IKubernetesObject<V1ObjectMeta> obj, DateTime now)
    {
        var json = JsonNode.Parse(KubeObjects.Serialize(obj));
        var cells = new List<object> { obj.Metadata?.Name ?? "" };
        foreach (var (column, path) in _columns)
            cells.Add(Cell(path.Find(json).FirstOrDefault(), column.Type, now)!);
        return cells;
    }

    private static object? Cell(JsonNode? value, string type, DateTime now)
    {
        if (value is null) return null;
        if (value is JsonValue v)
            switch (type)
            {
                case "integer" when v.TryGetValue<long>(out var l): return l;
                case "number" when v.TryGetValue<double>(out var d): return d;
                case "boolean" when v.TryGetValue<bool>(out var b): return b;
                case "date" when v.TryGetValue<string>(out var s) &&
                                 DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t):
                    return HumanDuration.Since(t, now);
            }
        return JsonPath.Text(value);
    }
}
