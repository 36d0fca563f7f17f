using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Master.Api.Http;

/// <summary>A parsed body: its tree and the fields it set more than once (the last value is kept, as Go's
/// decoder keeps it; strict field validation refuses them, the default warns).</summary>
internal sealed record ParsedBody(JsonNode? Root, IReadOnlyList<string> DuplicateFields);

/// <summary>
/// Reads a JSON body completely and within <see cref="BodyLimits.MaxDepth"/> before anything uses it: malformed
/// JSON, invalid UTF-8 and too deep nesting are a <see cref="MalformedBodyException"/> here, never an exception later
/// from a lazily read tree. Duplicate fields are found (with their paths) and the last value wins.
/// </summary>
internal static class JsonBody
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = BodyLimits.MaxDepth + 1 };
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = BodyLimits.MaxDepth + 1 };

    public static ParsedBody Parse(ReadOnlySpan<byte> body)
    {
        var duplicates = Scan(body);
        try
        {
            if (duplicates.Count == 0) return new ParsedBody(JsonNode.Parse(body, documentOptions: DocumentOptions), duplicates);
            // Duplicate names would make a lazily built JsonObject throw: build the tree with the last value winning.
            using var document = JsonDocument.Parse(body.ToArray(), DocumentOptions);
            return new ParsedBody(LastWins(document.RootElement), duplicates);
        }
        catch (JsonException e)
        {
            throw new MalformedBodyException(Describe(e));
        }
    }

    /// <summary>One pass over the tokens: syntax, UTF-8, depth, and duplicate field names.</summary>
    internal static List<string> Scan(ReadOnlySpan<byte> body)
    {
        var duplicates = new List<string>();
        var reader = new Utf8JsonReader(body, ReaderOptions);
        // One entry per open container: how it was reached (a field name, or an index in its parent list), the
        // names it has (made at the first name), and the index of its next element. A path is spelled out only for a
        // duplicate, so that a body of a million small objects costs no million strings.
        var open = new List<(string? Name, int Index, HashSet<string>? Seen, int Next)>();
        string? pendingName = null;
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth >= BodyLimits.MaxDepth &&
                    reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    throw new MalformedBodyException($"exceeded max depth of {BodyLimits.MaxDepth}");
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        pendingName = reader.GetString()!;
                        var top = open[^1];
                        top.Seen ??= new HashSet<string>(StringComparer.Ordinal);
                        if (!top.Seen.Add(pendingName)) duplicates.Add(Join(PathOf(open), pendingName));
                        open[^1] = top;
                        break;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        open.Add((pendingName, open.Count > 0 ? open[^1].Next : 0, null, 0));
                        pendingName = null;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        open.RemoveAt(open.Count - 1);
                        Advance(open);
                        break;
                    case JsonTokenType.String:
                        reader.GetString(); // validates the UTF-8 of the value now, not when something reads it
                        Advance(open);
                        pendingName = null;
                        break;
                    default:
                        Advance(open);
                        pendingName = null;
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            throw new MalformedBodyException(Describe(e));
        }
        catch (InvalidOperationException e)
        {
            throw new MalformedBodyException($"invalid UTF-8 in a string: {e.Message}");
        }
        return duplicates;
    }

    private static void Advance(List<(string? Name, int Index, HashSet<string>? Seen, int Next)> open)
    {
        if (open.Count == 0) return;
        var top = open[^1];
        top.Next++;
        open[^1] = top;
    }

    /// <summary>"spec.containers[1].ports": the path of the innermost open container.</summary>
    private static string PathOf(List<(string? Name, int Index, HashSet<string>? Seen, int Next)> open)
    {
        var path = new System.Text.StringBuilder();
        for (var i = 1; i < open.Count; i++)
        {
            if (open[i].Name is { } name) path.Append(path.Length == 0 ? "" : ".").Append(name);
            else path.Append('[').Append(open[i].Index).Append(']');
        }
        return path.ToString();
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    // Recursion is bounded: the scan has checked the depth.
    private static JsonNode? LastWins(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => Object(element),
        JsonValueKind.Array => new JsonArray(element.EnumerateArray().Select(LastWins).ToArray()),
        JsonValueKind.Null => null,
        _ => JsonValue.Create(element.Clone()),
    };

    private static JsonObject Object(JsonElement element)
    {
        var result = new JsonObject();
        foreach (var property in element.EnumerateObject()) result[property.Name] = LastWins(property.Value);
        return result;
    }

    /// <summary>How many objects and arrays nest in the tree (the root object counts one), found without recursion.</summary>
    public static int Depth(JsonNode? root)
    {
        var deepest = 0;
        var pending = new Stack<(JsonNode Node, int Depth)>();
        if (root is JsonObject or JsonArray) pending.Push((root, 1));
        while (pending.TryPop(out var item))
        {
            deepest = Math.Max(deepest, item.Depth);
            IEnumerable<JsonNode?> children = item.Node is JsonObject o ? o.Select(p => p.Value) : (JsonArray)item.Node;
            foreach (var child in children)
                if (child is JsonObject or JsonArray) pending.Push((child, item.Depth + 1));
        }
        return deepest;
    }

    private static string Describe(JsonException e) =>
        e.Message.Contains("maximum configured depth", StringComparison.Ordinal)
            ? $"exceeded max depth of {BodyLimits.MaxDepth}"
            : e.Message;
}
