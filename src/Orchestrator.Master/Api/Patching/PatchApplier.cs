using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;
using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master.Api.Patching;

/// <summary>Picks the patch algorithm from the request's Content-Type and applies it to a JSON document. The patch is
/// parsed once (<see cref="Parse"/>) and applied on every attempt of the patch loop.</summary>
internal static partial class PatchApplier
{
    public const string MergePatch = "application/merge-patch+json";
    public const string JsonPatchType = "application/json-patch+json";
    public const string StrategicMergePatchType = "application/strategic-merge-patch+json";
    public const string ApplyPatch = "application/apply-patch+yaml";

    /// <summary>Checks the media type and reads the patch within <see cref="BodyLimits"/> (400 when malformed, 413
    /// for a JSON patch of too many operations). The caller handles the duplicate fields it reports.</summary>
    public static ParsedBody Parse(byte[] patchBody, string mediaType)
    {
        if (mediaType == ApplyPatch)
            throw new ApiException(415, "UnsupportedMediaType", "server-side apply is served on the main resource only");
        if (mediaType is not (MergePatch or JsonPatchType or StrategicMergePatchType))
            throw new ApiException(415, "UnsupportedMediaType",
                $"the body of the request was in an unknown format - accepted media types include: " +
                $"{JsonPatchType}, {MergePatch}, {StrategicMergePatchType}, {ApplyPatch} (got \"{mediaType}\")");
        if (patchBody.Length == 0) throw ApiException.BadRequest("error decoding patch: the body of the request was empty");
        ParsedBody parsed;
        try
        {
            parsed = JsonBody.Parse(patchBody);
        }
        catch (MalformedBodyException e)
        {
            throw ApiException.BadRequest($"error decoding patch: {e.Message}");
        }
        if (mediaType == JsonPatchType) JsonPatch.CheckOperations(parsed.Root);
        else if (parsed.Root is not JsonObject)
            throw ApiException.BadRequest(mediaType == MergePatch ? "Invalid JSON Patch" : "error decoding patch: the patch is not a JSON object");
        return parsed;
    }

    public static JsonObject Apply(JsonNode current, JsonNode? patch, string mediaType)
    {
        var result = mediaType switch
        {
            JsonPatchType => JsonPatch.Apply(current, patch),
            StrategicMergePatchType => StrategicMergePatch.Apply(current, patch),
            _ => JsonMergePatch.Apply(current, patch),
        };
        return result as JsonObject ?? throw ApiException.BadRequest("the patched document is not a JSON object");
    }

    /// <summary>Parses and applies in one step (duplicate fields keep their last value).</summary>
    public static JsonObject Apply(JsonNode current, byte[] patchBody, string mediaType) =>
        Apply(current, Parse(patchBody, mediaType).Root, mediaType);

    /// <summary>kube-apiserver's answer when the patched object no longer fits its kind (labels patched into a string):
    /// 422 on the field "patch", kind and name left empty. A strategic merge patch is turned into the object by the
    /// unstructured converter, which says "cannot restore map from string", and the value is the patch in Go's %v;
    /// the JSON patches decode the patched JSON, so the decoder's message and that JSON are reported.</summary>
    public static ApiException DoesNotFit(string mediaType, JsonNode? patch, JsonObject patched, string decodeProblem)
    {
        var strategic = mediaType == StrategicMergePatchType;
        var value = strategic ? GoValue(patch) : patched.ToJsonString();
        var detail = strategic ? ConverterProblem(decodeProblem) : decodeProblem;
        var message = $"Invalid value: {GoQuote.Quote(value)}: {detail}";
        return new ApiException(422, "Invalid", $" \"\" is invalid: patch: {message}",
            new V1StatusDetails { Causes = [new V1StatusCause { Field = "patch", Reason = "FieldValueInvalid", Message = message }] });
    }

    [GeneratedRegex(@"^json: cannot unmarshal (?<value>\w+)(?<text> \S+)? into Go (struct field \S+|value) of type (?<type>.+)$")]
    private static partial Regex DecodeProblem();

    /// <summary>The unstructured converter's words for a value of the wrong shape (runtime.DefaultUnstructuredConverter):
    /// "cannot restore map from string", "cannot restore slice from map", "cannot restore struct from: string".</summary>
    private static string ConverterProblem(string decodeProblem)
    {
        var m = DecodeProblem().Match(decodeProblem);
        if (!m.Success) return decodeProblem;
        var from = m.Groups["value"].Value switch
        {
            "object" => "map",
            "array" => "slice",
            "number" => m.Groups["text"].Success ? "float64" : "int64",
            var kind => kind,
        };
        var type = m.Groups["type"].Value;
        if (type.StartsWith("map[", StringComparison.Ordinal)) return $"cannot restore map from {from}";
        if (type.StartsWith("[]", StringComparison.Ordinal) && type != "[]uint8") return $"cannot restore slice from {from}";
        if (type.StartsWith("v1.", StringComparison.Ordinal) && type != "v1.Time") return $"cannot restore struct from: {from}";
        return decodeProblem;
    }

    /// <summary>A decoded JSON value as Go's %v prints it: map[a:1 b:map[c:x]], [x y], &lt;nil&gt;.</summary>
    private static string GoValue(JsonNode? node) => node switch
    {
        null => "<nil>",
        JsonObject o => "map[" + string.Join(" ", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}:{GoValue(p.Value)}")) + "]",
        JsonArray a => "[" + string.Join(" ", a.Select(GoValue)) + "]",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValueKind() == JsonValueKind.True ? "true" : "false",
        JsonValue v when v.TryGetValue<long>(out var l) => l.ToString(CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue<double>(out var d) => d.ToString("R", CultureInfo.InvariantCulture),
        _ => node.ToJsonString(),
    };
}
