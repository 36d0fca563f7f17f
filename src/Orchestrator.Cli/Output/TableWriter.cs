using System.Text.Json;

namespace Orchestrator.Cli.Output;

/// <summary>
/// Prints a server-side meta.k8s.io Table like kubectl: upper-case headers, columns padded with three spaces,
/// priority-1 columns only with -o wide, a NAMESPACE column first with -A.
/// </summary>
internal sealed class TableWriter(bool wide, bool withNamespace, bool noHeaders = false)
{
    private List<(int Index, string Name)>? _columns;
    private int[]? _widths;

    /// <summary>Formats the table's rows; the header is printed with the first call only (watches send one table per event).</summary>
    public IReadOnlyList<string> Format(JsonElement table, bool header)
    {
        // Watch events after the first may carry rows only: the columns of the first table stay in force.
        if (_columns is null && !table.TryGetProperty("columnDefinitions", out _)) return [];
        _columns ??= table.GetProperty("columnDefinitions").EnumerateArray()
            .Select((c, i) => (Index: i, Name: c.GetProperty("name").GetString()!.ToUpperInvariant(),
                Priority: c.TryGetProperty("priority", out var p) ? p.GetInt32() : 0))
            .Where(c => wide || c.Priority == 0)
            .Select(c => (c.Index, c.Name)).ToList();
        var rows = new List<string[]>();
        foreach (var row in table.GetProperty("rows").EnumerateArray())
        {
            var cells = row.GetProperty("cells").EnumerateArray().ToList();
            var line = _columns.Select(c => c.Index < cells.Count ? Cell(cells[c.Index]) : "").ToList();
            if (withNamespace)
            {
                var ns = row.TryGetProperty("object", out var o) && o.TryGetProperty("metadata", out var m)
                         && m.TryGetProperty("namespace", out var n) ? n.GetString() ?? "" : "";
                line.Insert(0, ns);
            }
            rows.Add(line.ToArray());
        }
        var headers = (withNamespace ? new[] { "NAMESPACE" } : []).Concat(_columns.Select(c => c.Name)).ToArray();
        // Widths are fixed by the first batch (like kubectl -w, which cannot re-align lines already printed).
        _widths ??= headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var lines = new List<string>();
        if (header && !noHeaders) lines.Add(Join(headers));
        lines.AddRange(rows.Select(Join));
        return lines;
    }

    private string Join(string[] cells) =>
        string.Join("   ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(_widths![i]))).TrimEnd();

    private static string Cell(JsonElement cell) => cell.ValueKind switch
    {
        JsonValueKind.String => cell.GetString()!,
        JsonValueKind.Null or JsonValueKind.Undefined => "<none>",
        JsonValueKind.Array => string.Join(",", cell.EnumerateArray().Select(Cell)),
        _ => cell.GetRawText(),
    };
}
