using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master.Api.Patching;

/// <summary>RFC 6902 JSON patch (application/json-patch+json): add, remove, replace, move, copy, test on
/// RFC 6901 pointers. A patch that cannot apply is refused with 422, a malformed one with 400.</summary>
internal static class JsonPatch
{
    public static JsonNode Apply(JsonNode target, JsonNode? patch)
    {
        if (patch is not JsonArray operations)
            throw ApiException.BadRequest("a JSON patch must be a JSON array of operations");
        var document = target.DeepClone();
        foreach (var operation in operations)
        {
            if (operation is not JsonObject op || op["op"]?.ToString() is not { } name || op["path"]?.ToString() is not { } path)
                throw ApiException.BadRequest("each JSON patch operation needs \"op\" and \"path\"");
            switch (name)
            {
                case "add":
                    document = Add(document, Pointer(path), Required(op, "value").DeepClone());
                    break;
                case "remove":
                    document = Remove(document, Pointer(path), out _);
                    break;
                case "replace":
                    document = Remove(document, Pointer(path), out _);
                    document = Add(document, Pointer(path), Required(op, "value").DeepClone());
                    break;
                case "move":
                {
                    var from = op["from"]?.ToString() ?? throw ApiException.BadRequest("\"move\" needs \"from\"");
                    document = Remove(document, Pointer(from), out var moved);
                    document = Add(document, Pointer(path), moved);
                    break;
                }
                case "copy":
                {
                    var from = op["from"]?.ToString() ?? throw ApiException.BadRequest("\"copy\" needs \"from\"");
                    document = Add(document, Pointer(path), Get(document, Pointer(from))?.DeepClone());
                    break;
                }
                case "test":
                    if (!JsonNode.DeepEquals(Get(document, Pointer(path)), op["value"]))
                        throw Unprocessable($"testing value {path} failed");
                    break;
                default:
                    throw ApiException.BadRequest($"unexpected JSON patch operation \"{name}\"");
            }
        }
        return document;
    }

    private static JsonNode Required(JsonObject op, string key) =>
        op.TryGetPropertyValue(key, out var value) && value is not null
            ? value
            : throw ApiException.BadRequest($"JSON patch operation \"{op["op"]}\" needs \"{key}\"");

    private static ApiException Unprocessable(string message) =>
        new(422, "Invalid", $"the server rejected our request due to an error in our request: {message}");

    private static string[] Pointer(string path)
    {
        if (path.Length == 0) return [];
        if (!path.StartsWith('/')) throw ApiException.BadRequest($"JSON pointer \"{path}\" must start with '/'");
        return path[1..].Split('/').Select(p => p.Replace("~1", "/").Replace("~0", "~")).ToArray();
    }

    private static JsonNode? Get(JsonNode? node, string[] pointer)
    {
        foreach (var token in pointer)
        {
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var child) => child,
                JsonArray a when int.TryParse(token, out var i) && i >= 0 && i < a.Count => a[i],
                _ => throw Unprocessable($"path /{string.Join("/", pointer)} does not exist"),
            };
        }
        return node;
    }

    private static JsonNode Add(JsonNode document, string[] pointer, JsonNode? value)
    {
        if (pointer.Length == 0) return value ?? throw Unprocessable("cannot replace the document with null");
        var parent = Get(document, pointer[..^1]);
        var last = pointer[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw Unprocessable($"cannot add at /{string.Join("/", pointer)}");
        }
        return document;
    }

    private static JsonNode Remove(JsonNode document, string[] pointer, out JsonNode? removed)
    {
        if (pointer.Length == 0) throw Unprocessable("cannot remove the whole document");
        var parent = Get(document, pointer[..^1]);
        var last = pointer[^1];
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out removed):
                o.Remove(last);
                break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i < a.Count:
                removed = a[i];
                a.RemoveAt(i);
                break;
            default:
                throw Unprocessable($"path /{string.Join("/", pointer)} does not exist");
        }
        return document;
    }
}
