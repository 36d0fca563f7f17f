using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Bodies;

/// <summary>
/// Reads request bodies: size limit (413), media type (JSON, or protobuf through <see cref="IProtobufBodyDecoder"/>),
/// malformed JSON and a wrong kind or apiVersion (400), and server-side field validation (Strict → 400,
/// Warn → a Warning header).
/// </summary>
internal sealed class RequestBodies(IProtobufBodyDecoder protobuf)
{
    public const long MaxBodyBytes = 3 * 1024 * 1024;
    public const string ProtobufMediaType = "application/vnd.kubernetes.protobuf";

    public static async Task<byte[]> ReadBytesAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes) throw ApiException.TooLarge(MaxBodyBytes);
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes) throw ApiException.TooLarge(MaxBodyBytes);
        }
        return buffer.ToArray();
    }

    /// <summary>The media type of the body without parameters, lower case ("" when absent).</summary>
    public static string MediaType(HttpContext context) =>
        (context.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();

    public async Task<IKubernetesObject<V1ObjectMeta>> ReadObjectAsync(HttpContext context, ResourceDescription resource)
    {
        var body = await ReadBytesAsync(context);
        var mediaType = MediaType(context);
        if (mediaType == ProtobufMediaType)
        {
            if (!protobuf.Supports(resource)) throw ApiException.UnsupportedMediaType(mediaType);
            if (protobuf.TryDecode(body, resource, out var decoded, out var error) && decoded is not null)
            {
                CheckKind(decoded.Kind, decoded.ApiVersion, resource.Kind, resource.GroupVersion);
                return decoded;
            }
            throw ApiException.BadRequest(
                $"{resource.Kind} in version \"{resource.Version}\" cannot be handled as a {resource.Kind}: {error}");
        }
        var json = ParseJson(body, mediaType, resource.Kind, resource.Version);
        CheckKind(json["kind"]?.ToString(), json["apiVersion"]?.ToString(), resource.Kind, resource.GroupVersion);
        ValidateFields(context, json, resource);
        return ObjectJson.FromJson(json, resource);
    }

    /// <summary>Reads a JSON body of a non-resource type (Scale, Binding, DeleteOptions).</summary>
    public static async Task<T?> ReadJsonAsync<T>(HttpContext context, string kind, string apiVersion, bool optional = false)
        where T : class
    {
        var body = await ReadBytesAsync(context);
        if (optional && body.Length == 0) return null;
        var mediaType = MediaType(context);
        if (optional && mediaType == ProtobufMediaType) return null; // options bodies are advisory; defaults apply
        var json = ParseJson(body, mediaType, kind, apiVersion.Split('/')[^1]);
        if (!optional) CheckKind(json["kind"]?.ToString(), json["apiVersion"]?.ToString(), kind, apiVersion);
        ValidateFields(context, json, typeof(T), kind, apiVersion.Split('/')[^1]);
        return ObjectJson.Deserialize<T>(json.ToJsonString(), kind);
    }

    public static JsonObject ParseJson(byte[] body, string mediaType, string kind, string version)
    {
        if (mediaType.Length > 0 && mediaType != "application/json" && !mediaType.EndsWith("+json"))
            throw ApiException.UnsupportedMediaType(mediaType);
        if (body.Length == 0) throw ApiException.BadRequest("the body of the request was empty");
        try
        {
            return JsonNode.Parse(body) as JsonObject
                   ?? throw ApiException.BadRequest(
                       $"{kind} in version \"{version}\" cannot be handled as a {kind}: the body is not a JSON object");
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw ApiException.BadRequest(
                $"{kind} in version \"{version}\" cannot be handled as a {kind}: invalid JSON: {e.Message}");
        }
    }

    public static void CheckKind(string? bodyKind, string? bodyApiVersion, string kind, string apiVersion)
    {
        if (!string.IsNullOrEmpty(bodyApiVersion) && bodyApiVersion != apiVersion)
            throw ApiException.BadRequest(
                $"the API version in the data ({bodyApiVersion}) does not match the expected API version ({apiVersion})");
        if (!string.IsNullOrEmpty(bodyKind) && bodyKind != kind)
            throw ApiException.BadRequest(
                $"the kind in the data ({bodyKind}) does not match the expected kind ({kind}) for this resource");
    }

    /// <summary>Field validation of a resource's body: by its description's validator (a custom resource's schema),
    /// else by its model.</summary>
    public static void ValidateFields(HttpContext context, JsonObject json, ResourceDescription resource)
    {
        if (resource.FieldValidator is { } validator)
            Report(context, validator.UnknownFields(json), resource.Kind, resource.Version);
        else
            ValidateFields(context, json, resource.ObjectType, resource.Kind, resource.Version);
    }

    /// <summary>Applies <c>?fieldValidation=</c>: Strict refuses unknown fields, Warn (and the default) warns, Ignore
    /// ignores them.</summary>
    public static void ValidateFields(HttpContext context, JsonNode json, Type type, string kind, string version)
    {
        if (context.Request.Query["fieldValidation"].ToString().Equals("Ignore", StringComparison.OrdinalIgnoreCase)) return;
        Report(context, StrictFieldValidator.UnknownFields(json, type), kind, version);
    }

    private static void Report(HttpContext context, IReadOnlyList<string> unknown, string kind, string version)
    {
        var directive = context.Request.Query["fieldValidation"].ToString();
        if (directive.Equals("Ignore", StringComparison.OrdinalIgnoreCase)) return;
        if (unknown.Count == 0) return;
        if (directive.Equals("Strict", StringComparison.OrdinalIgnoreCase))
            throw ApiException.BadRequest($"{kind} in version \"{version}\" cannot be handled as a {kind}: " +
                                          $"strict decoding error: {string.Join(", ", unknown.Select(u => $"unknown field \"{u}\""))}");
        foreach (var field in unknown)
            context.Response.Headers.Append("Warning", $"299 - \"unknown field \\\"{field}\\\"\"");
    }
}
