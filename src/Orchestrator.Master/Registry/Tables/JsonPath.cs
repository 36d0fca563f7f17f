using System.Text.Json.Nodes;

namespace Orchestrator.Master.Registry.Tables;

/// <summary>
/// The JSONPath subset of printer columns and selectable fields (client-go jsonpath as CRDs use it):
/// <c>.spec.replicas</c>, <c>.items[0].name</c>, <c>.items[*].name</c>, <c>.status.conditions[?(@.type=="Ready")].status</c>.
/// <see cref="Find"/> yields every match in document order.
/// </summary>
internal sealed class JsonPath
{
    private abstract record Step;
    private sealed record Field(string Name) : Step;
    private sealed record Index(int Value) : Step;
    private sealed record All : Step;
    private sealed record Filter(string Field, string Value) : Step;

    private readonly IReadOnlyList<Step> _steps;

    private JsonPath(IReadOnlyList<Step> steps) => _steps = steps;

    /// <summary>Parses a path (braces optional); throws FormatException with the reason.</summary>
    public static JsonPath Parse(string text)
    {
        var path = text.Trim();
        if (path.StartsWith('{') && path.EndsWith('}')) path = path[1..^1].Trim();
        if (!path.StartsWith('.')) throw new FormatException("must be a simple json path starting with .");
        var steps = new List<Step>();
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var start = ++i;
                while (i < path.Length && path[i] is not ('.' or '[')) i++;
                if (i == start) throw new FormatException("empty field name");
                steps.Add(new Field(path[start..i]));
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                if (end < 0) throw new FormatException("unterminated [");
                var inner = path[(i + 1)..end].Trim();
                if (inner == "*") steps.Add(new All());
                else if (int.TryParse(inner, out var index)) steps.Add(new Index(index));
                else if (inner.StartsWith("?(@.") && inner.EndsWith(')') && inner[4..^1].Split("==") is [var field, var value])
                    steps.Add(new Filter(field.Trim(), value.Trim().Trim('"', '\'')));
                else throw new FormatException($"unsupported expression [{inner}]");
                i = end + 1;
            }
            else throw new FormatException($"unexpected character '{path[i]}'");
        }
        return new JsonPath(steps);
    }

    public IEnumerable<JsonNode?> Find(JsonNode? root)
    {
        IEnumerable<JsonNode?> current = [root];
        foreach (var step in _steps)
            current = current.SelectMany(node => Apply(step, node)).ToList();
        return current;
    }

    private static IEnumerable<JsonNode?> Apply(Step step, JsonNode? node)
    {
        switch (step)
        {
            case Field f when node is JsonObject o && o.TryGetPropertyValue(f.Name, out var value):
                yield return value;
                break;
            case Index ix when node is JsonArray a:
                var at = ix.Value < 0 ? a.Count + ix.Value : ix.Value;
                if (at >= 0 && at < a.Count) yield return a[at];
                break;
            case All when node is JsonArray a:
                foreach (var item in a) yield return item;
                break;
            case All when node is JsonObject o:
                foreach (var (_, item) in o) yield return item;
                break;
            case Filter filter when node is JsonArray a:
                foreach (var item in a)
                    if (item is JsonObject o && o[filter.Field] is JsonNode v && Text(v) == filter.Value) yield return item;
                break;
        }
    }

    /// <summary>A JSON value as text: strings bare, everything else its JSON.</summary>
    public static string Text(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? "";
}
