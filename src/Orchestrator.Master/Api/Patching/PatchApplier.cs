using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master.Api.Patching;

/// <summary>Picks the patch algorithm from the request's Content-Type and applies it to a JSON document.</summary>
internal static class PatchApplier
{
    public const string MergePatch = "application/merge-patch+json";
    public const string JsonPatchType = "application/json-patch+json";
    public const string StrategicMergePatchType = "application/strategic-merge-patch+json";
    public const string ApplyPatch = "application/apply-patch+yaml";

    public static JsonNode Apply(JsonNode current, byte[] patchBody, string mediaType)
    {
        if (mediaType == ApplyPatch)
            throw new ApiException(415, "UnsupportedMediaType", "server-side apply is served on the main resource only");
        if (mediaType is not (MergePatch or JsonPatchType or StrategicMergePatchType))
            throw new ApiException(415, "UnsupportedMediaType",
                $"the body of the request was in an unknown format - accepted media types include: " +
                $"{JsonPatchType}, {MergePatch}, {StrategicMergePatchType}, {ApplyPatch} (got \"{mediaType}\")");
        JsonNode? patch;
        try
        {
            patch = JsonNode.Parse(patchBody);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw ApiException.BadRequest($"error decoding patch: {e.Message}");
        }
        var result = mediaType switch
        {
            JsonPatchType => JsonPatch.Apply(current, patch),
            StrategicMergePatchType => StrategicMergePatch.Apply(current, patch),
            _ => JsonMergePatch.Apply(current, patch),
        };
        return result as JsonObject ?? throw ApiException.BadRequest("the patched document is not a JSON object");
    }
}
