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
    private static List<string> Scan(ReadOnlySpan<byte> body)
    {
        var duplicates = new List<string>();
        var reader = new Utf8JsonReader(body, ReaderOptions);
        // One entry per open container: the names seen (null for arrays), the path, and the element index.
        var names = new Stack<HashSet<string>?>();
        var paths = new Stack<string>();
        var indexes = new Stack<int>();
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
                        if (!names.Peek()!.Add(pendingName)) duplicates.Add(Join(paths.Peek(), pendingName));
                        break;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        var path = ChildPath(paths, indexes, pendingName);
                        names.Push(reader.TokenType == JsonTokenType.StartObject ? new HashSet<string>(StringComparer.Ordinal) : null);
                        paths.Push(path);
                        indexes.Push(0);
                        pendingName = null;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        names.Pop();
                        paths.Pop();
                        indexes.Pop();
                        Advance(indexes);
                        break;
                    case JsonTokenType.String:
                        reader.GetString(); // validates the UTF-8 of the value now, not when something reads it
                        Advance(indexes);
                        pendingName = null;
                        break;
                    default:
                        Advance(indexes);
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

    private static string ChildPath(Stack<string> paths, Stack<int> indexes, string? name)
    {
        if (paths.Count == 0) return "";
        return name is not null ? Join(paths.Peek(), name) : $"{paths.Peek()}[{indexes.Peek()}]";
    }

    private static void Advance(Stack<int> indexes)
    {
        if (indexes.Count > 0) indexes.Push(indexes.Pop() + 1);
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
