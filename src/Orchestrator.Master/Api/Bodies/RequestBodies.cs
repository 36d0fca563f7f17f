using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Bodies;

/// <summary>How <c>?fieldValidation=</c> treats unknown and duplicate fields (the server's default is Warn).</summary>
internal enum FieldValidation { Ignore, Warn, Strict }

/// <summary>
/// Reads request bodies within <see cref="BodyLimits"/>: size (413) and time (408), media type (JSON, YAML, or
/// protobuf through <see cref="IProtobufBodyDecoder"/>; others 415), malformed or too deep bodies and a wrong kind or
/// apiVersion (400), and server-side field validation of unknown and duplicate fields (Strict → 400, Warn → a
/// Warning header).
/// </summary>
internal sealed class RequestBodies(IProtobufBodyDecoder protobuf)
{
    public const long MaxBodyBytes = BodyLimits.MaxBodyBytes;
    public const string YamlMediaType = "application/yaml";

    public static async Task<byte[]> ReadBytesAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes) throw ApiException.TooLarge(MaxBodyBytes);
        if (TryReadWhole(context.Request.BodyReader) is { } whole) return whole;
        return await ReadStreamAsync(context);
    }

    /// <summary>The body, for a check that runs before the handler (an admission of the request): read within the same
    /// limits from a buffered copy, which is rewound so that the handler reads it again from its start.</summary>
    public static async Task<byte[]> PeekBytesAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes) throw ApiException.TooLarge(MaxBodyBytes);
        context.Request.EnableBuffering((int)MaxBodyBytes);
        try
        {
            return await ReadStreamAsync(context);
        }
        finally
        {
            context.Request.Body.Position = 0;
        }
    }

    private static async Task<byte[]> ReadStreamAsync(HttpContext context)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(BodyLimits.BodyReadTimeout);
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, deadline.Token)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxBodyBytes) throw ApiException.TooLarge(MaxBodyBytes);
            }
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            throw ApiException.BodyTimeout();
        }
        return buffer.ToArray();
    }

    /// <summary>The whole body when it has already arrived (a small request usually comes in the packets of its headers):
    /// then no deadline is armed and no read buffer made, since nothing is waited for. Null otherwise, with nothing
    /// consumed, for the timed read.</summary>
    internal static byte[]? TryReadWhole(System.IO.Pipelines.PipeReader reader)
    {
        if (!reader.TryRead(out var result)) return null;
        var buffer = result.Buffer;
        if (!result.IsCompleted || result.IsCanceled)
        {
            reader.AdvanceTo(buffer.Start);
            return null;
        }
        if (buffer.Length > MaxBodyBytes)
        {
            reader.AdvanceTo(buffer.Start);
            throw ApiException.TooLarge(MaxBodyBytes);
        }
        var bytes = System.Buffers.BuffersExtensions.ToArray(buffer);
        reader.AdvanceTo(buffer.End);
        return bytes;
    }

    /// <summary>The media type of the body without parameters, lower case ("" when absent).</summary>
    public static string MediaType(HttpContext context) =>
        (context.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();

    /// <summary>The request's object; <paramref name="subresource"/>: the subresource it is written to (a status write's
    /// protobuf body must carry the status).</summary>
    public async Task<IKubernetesObject<V1ObjectMeta>> ReadObjectAsync(HttpContext context, ResourceDescription resource, string? subresource = null)
    {
        var validation = FieldValidationOf(context);
        return DecodeObject(context, await ReadBytesAsync(context), resource, subresource, validation);
    }

    /// <summary>The body as the resource's object (see <see cref="ReadObjectAsync"/>), decoded as the request's media type
    /// says; a body that is not one is a 400 (415 for a media type not read).</summary>
    public IKubernetesObject<V1ObjectMeta> DecodeObject(HttpContext context, byte[] body, ResourceDescription resource, string? subresource,
        FieldValidation validation)
    {
        var mediaType = MediaType(context);
        if (mediaType == ContentNegotiation.ProtobufMediaType)
        {
            if (!protobuf.Supports(resource, subresource)) throw ApiException.UnsupportedMediaType(mediaType, protobuf: false);
            if (protobuf.TryDecode(body, resource, out var decoded, out var error) && decoded is not null)
            {
                CheckKind(decoded.Kind, decoded.ApiVersion, resource.Kind, resource.GroupVersion);
                return decoded;
            }
            throw CannotHandle(resource.Kind, resource.Version, error!);
        }
        if (IsJson(mediaType) && PlainBodies.TryDecode(body, resource, out var kind, out var apiVersion) is { } plain)
        {
            CheckKind(kind, apiVersion, resource.Kind, resource.GroupVersion);
            return plain;
        }
        var json = ParseObject(context, body, mediaType, resource.Kind, resource.Version, validation, protobuf.Supports(resource, subresource));
        CheckKind(json["kind"]?.ToString(), json["apiVersion"]?.ToString(), resource.Kind, resource.GroupVersion);
        return ToObject(context, json, resource, validation);
    }

    /// <summary>A JSON tree (a parsed body, or a patched object) as the resource's object: unknown fields checked,
    /// nulls where Go has a zero value given that zero value, then decoded (a tree that does not fit is a 400).</summary>
    public static IKubernetesObject<V1ObjectMeta> ToObject(HttpContext context, JsonObject json, ResourceDescription resource,
        FieldValidation validation, Func<string, ApiException>? doesNotFit = null)
    {
        ValidateFields(context, json, resource, validation);
        return ToObject(json, resource, doesNotFit);
    }

    /// <summary>As the other, with unknown fields dropped silently (fieldValidation Ignore): for objects that come from no
    /// request (a webhook's patch of a controller's write).</summary>
    public static IKubernetesObject<V1ObjectMeta> ToObject(JsonObject json, ResourceDescription resource, Func<string, ApiException>? doesNotFit = null)
    {
        if (resource.ObjectType != typeof(CustomObject))
        {
            StrictFieldValidator.RemoveLaterFields(json, resource.ObjectType);
            ZeroValues.FillNulls(json, resource.ObjectType);
        }
        return ObjectJson.FromJson(json, resource, doesNotFit);
    }

    /// <summary>Reads a body of a non-resource type (Scale, Binding, Eviction, DeleteOptions) in JSON, YAML or protobuf.</summary>
    public static async Task<T?> ReadJsonAsync<T>(HttpContext context, string kind, string apiVersion, bool optional = false)
        where T : class
    {
        var validation = FieldValidationOf(context);
        var body = await ReadBytesAsync(context);
        if (optional && body.Length == 0) return null;
        var mediaType = MediaType(context);
        var version = ApiVersions.GroupVersionOf(apiVersion).Version;
        JsonObject json;
        if (mediaType == ContentNegotiation.ProtobufMediaType)
            json = ProtobufBodyDecoder.TryDecodeBody(body, kind, apiVersion, anyApiVersion: optional, out var decoded, out var error)
                ? decoded!
                : throw CannotHandle(kind, version, error!);
        else
            json = ParseObject(context, body, mediaType, kind, version, validation, acceptsProtobuf: true);
        if (!optional) CheckKind(json["kind"]?.ToString(), json["apiVersion"]?.ToString(), kind, apiVersion);
        ValidateFields(context, json, typeof(T), kind, version, validation);
        ZeroValues.FillNulls(json, typeof(T));
        return ObjectJson.Deserialize<T>(json, kind);
    }

    /// <summary>A JSON media type (or none, which is read as JSON).</summary>
    private static bool IsJson(string mediaType) =>
        mediaType.Length == 0 || mediaType == "application/json" || mediaType.EndsWith("+json");

    /// <summary>A JSON or YAML body that must be one object; duplicate fields follow the field validation.</summary>
    public static JsonObject ParseObject(HttpContext context, byte[] body, string mediaType, string kind, string version,
        FieldValidation validation, bool acceptsProtobuf)
    {
        var yaml = mediaType == YamlMediaType;
        if (!yaml && !IsJson(mediaType)) throw ApiException.UnsupportedMediaType(mediaType, acceptsProtobuf);
        if (body.Length == 0) throw ApiException.BadRequest("the body of the request was empty");
        ParsedBody parsed;
        try
        {
            parsed = yaml ? YamlBody.Parse(body) : JsonBody.Parse(body);
        }
        catch (MalformedBodyException e) when (!yaml && !e.Message.StartsWith("exceeded max depth", StringComparison.Ordinal))
        {
            // Not JSON at all (a YAML file sent as JSON by `kubectl create --raw`): kube-apiserver finds no kind in it,
            // so it cannot say which version it was and names only the kind it wanted (transformDecodeError).
            throw Unrecognized(kind, $"couldn't get version/kind; json parse error: {GoSyntaxError(e.Message)}", body);
        }
        catch (MalformedBodyException e)
        {
            throw CannotHandle(kind, version, e.Message);
        }
        var json = parsed.Root as JsonObject ?? throw CannotHandle(kind, version, "the body is not a JSON object");
        ReportDuplicates(context, parsed.DuplicateFields, validation,
            strict => CannotHandle(kind, version, $"strict decoding error: {strict}"));
        return json;
    }

    /// <summary>Strict refuses duplicate fields with <paramref name="refusal"/>; Warn warns about each.</summary>
    public static void ReportDuplicates(HttpContext context, IReadOnlyList<string> duplicates, FieldValidation validation,
        Func<string, ApiException> refusal)
    {
        if (duplicates.Count == 0 || validation == FieldValidation.Ignore) return;
        if (validation == FieldValidation.Strict)
            throw refusal(string.Join(", ", duplicates.Select(d => $"duplicate field \"{d}\"")));
        foreach (var duplicate in duplicates) Warnings.Add(context, $"duplicate field \"{duplicate}\"");
    }

    /// <summary>kube-apiserver's refusal of a body whose kind it could not read: the problem, then (summarizeData) the
    /// body's first 30 bytes as they are when it starts with "{", else in hex.</summary>
    public static ApiException Unrecognized(string kind, string problem, byte[] body)
    {
        var head = body.AsSpan(0, Math.Min(body.Length, 30));
        var summary = body.Length == 0 ? "<empty>"
            : body[0] == (byte)'{' ? System.Text.Encoding.UTF8.GetString(head) : Convert.ToHexString(head).ToLowerInvariant();
        if (body.Length > 30) summary += " ...";
        return ApiException.BadRequest($"the object provided is unrecognized (must be of type {kind}): {problem} ({summary})");
    }

    /// <summary>Go's encoding/json words for the first syntax error System.Text.Json reports, where they differ.</summary>
    private static string GoSyntaxError(string message)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, "^'(.)' is an invalid start of a value");
        return m.Success ? $"invalid character '{m.Groups[1].Value}' looking for beginning of value" : message;
    }

    public static ApiException CannotHandle(string kind, string version, string problem) =>
        ApiException.BadRequest($"{kind} in version \"{version}\" cannot be handled as a {kind}: {problem}");

    public static void CheckKind(string? bodyKind, string? bodyApiVersion, string kind, string apiVersion)
    {
        if (!string.IsNullOrEmpty(bodyApiVersion) && bodyApiVersion != apiVersion)
            throw ApiException.BadRequest(
                $"the API version in the data ({bodyApiVersion}) does not match the expected API version ({apiVersion})");
        if (!string.IsNullOrEmpty(bodyKind) && bodyKind != kind)
            throw ApiException.BadRequest(
                $"the kind in the data ({bodyKind}) does not match the expected kind ({kind}) for this resource");
    }

    /// <summary><c>?fieldValidation=</c>: Ignore, Warn (also when absent) or Strict; anything else is refused as
    /// kube-apiserver refuses it (422 on the request's options).</summary>
    public static FieldValidation FieldValidationOf(HttpContext context)
    {
        var values = context.Request.Query["fieldValidation"];
        var directive = values.Count == 0 ? "" : values[0] ?? "";
        return directive switch
        {
            "" or "Warn" => FieldValidation.Warn,
            "Ignore" => FieldValidation.Ignore,
            "Strict" => FieldValidation.Strict,
            _ => throw ApiException.InvalidOptions(OptionsKind(context.Request.Method), "fieldValidation",
                $"Unsupported value: \"{directive}\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""),
        };
    }

    /// <summary>The options type kube-apiserver names when it refuses a query parameter of this method.</summary>
    public static string OptionsKind(string method) => method switch
    {
        "POST" => "CreateOptions",
        "PUT" => "UpdateOptions",
        "PATCH" => "PatchOptions",
        "DELETE" => "DeleteOptions",
        _ => "ListOptions",
    };

    /// <summary>Field validation of a resource's body: by its description's validator (a custom resource's schema),
    /// else by its model.</summary>
    public static void ValidateFields(HttpContext context, JsonObject json, ResourceDescription resource, FieldValidation validation)
    {
        if (validation == FieldValidation.Ignore) return;
        if (resource.FieldValidator is { } validator)
            Report(context, validator.UnknownFields(json), resource.Kind, resource.Version, validation);
        else
            ValidateFields(context, json, resource.ObjectType, resource.Kind, resource.Version, validation);
    }

    /// <summary>Unknown fields: Strict refuses them (400), Warn warns about each, Ignore drops them silently.</summary>
    public static void ValidateFields(HttpContext context, JsonNode json, Type type, string kind, string version,
        FieldValidation validation)
    {
        if (validation == FieldValidation.Ignore) return;
        Report(context, StrictFieldValidator.UnknownFields(json, type), kind, version, validation);
    }

    private static void Report(HttpContext context, IReadOnlyList<string> unknown, string kind, string version,
        FieldValidation validation)
    {
        if (unknown.Count == 0) return;
        if (validation == FieldValidation.Strict)
            throw CannotHandle(kind, version,
                $"strict decoding error: {string.Join(", ", unknown.Select(u => $"unknown field \"{u}\""))}");
        foreach (var field in unknown) Warnings.Add(context, $"unknown field \"{field}\"");
    }
}
