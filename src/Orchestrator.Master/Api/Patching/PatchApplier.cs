using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master.Api.Patching;

/// <summary>Picks the patch algorithm from the request's Content-Type and applies it to a JSON document. The patch is
/// parsed once (<see cref="Parse"/>) and applied on every attempt of the patch loop.</summary>
internal static class PatchApplier
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
}
