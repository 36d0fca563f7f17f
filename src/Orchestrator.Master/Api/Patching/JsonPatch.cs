using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master.Api.Patching;

/// <summary>RFC 6902 JSON patch (application/json-patch+json): add, remove, replace, move, copy, test on
/// RFC 6901 pointers. Bounded as kube-apiserver bounds it: at most 10,000 operations (413), and what the copy
/// operations add together at most 3 MiB (422). A patch that cannot apply is refused with 422, a malformed one
/// with 400.</summary>
internal static class JsonPatch
{
    /// <summary>The shape and the operation count, checked once when the patch is read.</summary>
    public static void CheckOperations(JsonNode? patch)
    {
        if (patch is not JsonArray operations)
            throw ApiException.BadRequest("a JSON patch must be a JSON array of operations");
        if (operations.Count > BodyLimits.MaxJsonPatchOperations)
            throw new ApiException(413, "RequestEntityTooLarge",
                $"Request entity too large: The allowed maximum operations in a JSON patch is {BodyLimits.MaxJsonPatchOperations}, got {operations.Count}");
    }

    public static JsonNode Apply(JsonNode target, JsonNode? patch)
    {
        CheckOperations(patch);
        var document = target.DeepClone();
        long copied = 0;
        foreach (var operation in (JsonArray)patch!)
        {
            if (operation is not JsonObject op || op["op"] is not JsonValue opValue || op["path"] is not JsonValue pathValue ||
                !opValue.TryGetValue<string>(out var name) || !pathValue.TryGetValue<string>(out var path))
                throw ApiException.BadRequest("each JSON patch operation needs \"op\" and \"path\" strings");
            switch (name)
            {
                case "add":
                    document = Add(document, Pointer(path), Value(op)?.DeepClone());
                    break;
                case "remove":
                    document = Remove(document, Pointer(path), out _);
                    break;
                case "replace":
                    document = Replace(document, Pointer(path), Value(op)?.DeepClone());
                    break;
                case "move":
                {
                    var from = From(op);
                    document = Remove(document, Pointer(from), out var moved);
                    document = Add(document, Pointer(path), moved);
                    break;
                }
                case "copy":
                {
                    var value = Get(document, Pointer(From(op)));
                    copied += value?.ToJsonString().Length ?? 4;
                    if (copied > BodyLimits.MaxJsonPatchCopyBytes)
                        throw Unprocessable($"Unable to complete the copy, the accumulated size increase of copy is {copied}, " +
                                            $"exceeding the limit {BodyLimits.MaxJsonPatchCopyBytes}");
                    document = Add(document, Pointer(path), value?.DeepClone());
                    break;
                }
                case "test":
                    if (!JsonNode.DeepEquals(Get(document, Pointer(path)), op["value"]))
                        throw Unprocessable($"testing value {path} failed");
                    break;
                default:
                    throw Unprocessable($"Unexpected kind: {name}");
            }
        }
        return document;
    }

    private static string From(JsonObject op) =>
        op["from"] is JsonValue v && v.TryGetValue<string>(out var from)
            ? from
            : throw Unprocessable($"\"{op["op"]}\" operation missing \"from\"");

    /// <summary>The operation's value; JSON null is one (kube's json-patch sets the field to null), only an absent value is
    /// missing.</summary>
    private static JsonNode? Value(JsonObject op) =>
        op.TryGetPropertyValue("value", out var value)
            ? value
            : throw Unprocessable($"\"{op["op"]}\" operation missing \"value\"");

    private static ApiException Unprocessable(string message) =>
        new(422, "Invalid", $"the server rejected our request due to an error in our request: {message}");

    private static string[] Pointer(string path)
    {
        if (path.Length == 0) return [];
        if (!path.StartsWith('/')) throw Unprocessable($"JSON pointer \"{path}\" must start with '/'");
        return path[1..].Split('/').Select(p => p.Replace("~1", "/").Replace("~0", "~")).ToArray();
    }

    /// <summary>An RFC 6901 array index: "0" or digits without a leading zero, within the array.</summary>
    private static bool TryIndex(string token, int count, out int index)
    {
        index = -1;
        if (token.Length == 0 || token.Length > 9 || !token.All(char.IsAsciiDigit) || (token.Length > 1 && token[0] == '0')) return false;
        index = int.Parse(token);
        return index < count;
    }

    private static JsonNode? Get(JsonNode? node, string[] pointer)
    {
        foreach (var token in pointer)
        {
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var child) => child,
                JsonArray a when TryIndex(token, a.Count, out var i) => a[i],
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
            case JsonArray a when TryIndex(last, a.Count + 1, out var i):
                a.Insert(i, value);
                break;
            default:
                throw Unprocessable($"cannot add at /{string.Join("/", pointer)}");
        }
        return document;
    }

    /// <summary>As kube-apiserver's JSON patch library (evanphx/json-patch v4) replaces: the parent must exist and an
    /// array index must be within the array, but a member missing from an object is set as "add" would set it. Clients
    /// rely on it: a patch diffed from a typed model replaces a field that is null there and absent on the server
    /// (the C# client's Cordon, setting spec.unschedulable, as its e2e test ran here).</summary>
    private static JsonNode Replace(JsonNode document, string[] pointer, JsonNode? value)
    {
        if (pointer.Length == 0) return value ?? throw Unprocessable("cannot replace the document with null");
        var parent = Get(document, pointer[..^1]);
        var last = pointer[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when TryIndex(last, a.Count, out var i):
                a[i] = value;
                break;
            default:
                throw Unprocessable($"path /{string.Join("/", pointer)} does not exist");
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
            case JsonArray a when TryIndex(last, a.Count, out var i):
                removed = a[i];
                a.RemoveAt(i);
                break;
            default:
                throw Unprocessable($"path /{string.Join("/", pointer)} does not exist");
        }
        return document;
    }
}
