using System.Text;
using System.Text.Json.Nodes;

namespace Orchestrator.Cli.Output;

/// <summary>kubectl describe's layout: "Key:  value" lines aligned per level, nested sections, small tables.</summary>
internal sealed class Describer
{
    private readonly StringBuilder _text = new();

    public void Line(string key, string value, int indent = 0) =>
        _text.Append(' ', indent).Append((key + ":").PadRight(Math.Max(20 - indent, key.Length + 2))).Append(value).Append('\n');

    public void Header(string key, int indent = 0) => _text.Append(' ', indent).Append(key).Append(":\n");

    public void Map(string key, JsonNode? map, int indent = 0)
    {
        var pairs = map is JsonObject o ? o.Select(kv => $"{kv.Key}={(kv.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : kv.Value?.ToJsonString())}").ToList() : [];
        if (pairs.Count == 0)
        {
            Line(key, "<none>", indent);
            return;
        }
        Line(key, pairs[0], indent);
        var pad = Math.Max(20 - indent, key.Length + 2) + indent;
        foreach (var p in pairs.Skip(1)) _text.Append(' ', pad).Append(p).Append('\n');
    }

    public void Table(string[] headers, IReadOnlyList<string[]> rows)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        void Row(string[] cells) => _text.Append("  ").Append(string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd()).Append('\n');
        Row(headers);
        Row(headers.Select(h => new string('-', h.Length)).ToArray());
        foreach (var r in rows) Row(r);
    }

    public void Raw(string text) => _text.Append(text);

    public override string ToString() => _text.ToString();
}
