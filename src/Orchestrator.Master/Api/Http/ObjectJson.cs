using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Http;

/// <summary>API objects as JSON trees (for patching, selecting fields and writing answers), always through
/// KubernetesJson so IntOrString, quantities and times keep their wire form.</summary>
internal static class ObjectJson
{
    /// <summary>How answers are written: no HTML-style escaping (a message reads "server's", not "server\u0027s").</summary>
    public static readonly JsonSerializerOptions WriteOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Write(JsonNode node) => node.ToJsonString(WriteOptions);

    /// <summary>The object as a JSON tree that starts with apiVersion and kind, filled from the resource when the
    /// stored object lacks them (objects from the store are never modified).</summary>
    public static JsonObject ToJson(object obj, string apiVersion, string kind)
    {
        var parsed = JsonNode.Parse(KubeObjects.Serialize(obj))!.AsObject();
        var result = new JsonObject
        {
            ["apiVersion"] = parsed["apiVersion"]?.GetValue<string>() is { Length: > 0 } v ? v : apiVersion,
            ["kind"] = parsed["kind"]?.GetValue<string>() is { Length: > 0 } k ? k : kind,
        };
        foreach (var (key, value) in parsed.ToList())
        {
            if (key is "apiVersion" or "kind") continue;
            parsed.Remove(key);
            result[key] = value;
        }
        return result;
    }

    /// <summary>The object as the resource's version shows it: a custom object stored in another version of the same
    /// resource is shown in this one (conversion None: only apiVersion differs).</summary>
    public static JsonObject ToJson(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource)
    {
        var json = ToJson(obj, resource.GroupVersion, resource.Kind);
        if (obj is CustomObject) json["apiVersion"] = resource.GroupVersion;
        return json;
    }

    /// <summary>
    /// <c>Write(ToJson(obj, resource))</c> as UTF-8, byte for byte, without the tree: the object's KubernetesJson text is
    /// copied token by token into a writer with <see cref="WriteOptions"/> — apiVersion and kind first (the resource's
    /// when the object has none), strings and names unescaped and escaped again by the writer's encoder, numbers as
    /// written — which is what writing the parsed tree does. A JSON tree per object was most of the cost of encoding an
    /// answer (every create's response, every object's first get, list or watch event). Text the copy does not take as
    /// the tree would (apiVersion or kind not a string or twice, text that does not unescape to valid UTF-8) goes
    /// through the tree.
    /// </summary>
    public static byte[] Encode(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource)
    {
        return TryEncode(KubeObjects.SerializeToUtf8Bytes(obj), resource.GroupVersion, resource.Kind, obj is CustomObject) ??
               System.Text.Encoding.UTF8.GetBytes(Write(ToJson(obj, resource)));
    }

    /// <summary>See <see cref="Encode"/>; null when the text is to go through the tree.</summary>
    internal static byte[]? TryEncode(string text, string apiVersion, string kind, bool servedApiVersion) =>
        TryEncode(System.Text.Encoding.UTF8.GetBytes(text), apiVersion, kind, servedApiVersion);

    /// <summary>See <see cref="Encode"/>, of the text as UTF-8; null when the text is to go through the tree.</summary>
    internal static byte[]? TryEncode(ReadOnlySpan<byte> utf8, string apiVersion, string kind, bool servedApiVersion)
    {
        // First the top level's apiVersion and kind (the tree puts them first, whatever their place in the text).
        string? ownApiVersion = null, ownKind = null;
        try
        {
            var scan = new Utf8JsonReader(utf8);
            if (!scan.Read() || scan.TokenType != JsonTokenType.StartObject) return null;
            while (scan.Read() && scan.TokenType == JsonTokenType.PropertyName)
            {
                var isApiVersion = scan.ValueTextEquals("apiVersion"u8);
                var isKind = !isApiVersion && scan.ValueTextEquals("kind"u8);
                scan.Read();
                if (isApiVersion || isKind)
                {
                    if (scan.TokenType != JsonTokenType.String || (isApiVersion ? ownApiVersion : ownKind) is not null) return null;
                    if (isApiVersion) ownApiVersion = scan.GetString();
                    else ownKind = scan.GetString();
                }
                else scan.Skip();
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(utf8.Length + 64);
        byte[]? rented = null;
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = WriteOptions.Encoder }))
            {
                writer.WriteStartObject();
                writer.WriteString("apiVersion", servedApiVersion || string.IsNullOrEmpty(ownApiVersion) ? apiVersion : ownApiVersion);
                writer.WriteString("kind", string.IsNullOrEmpty(ownKind) ? kind : ownKind);
                var reader = new Utf8JsonReader(utf8);
                reader.Read();
                while (reader.Read())
                {
                    switch (reader.TokenType)
                    {
                        case JsonTokenType.PropertyName when reader.CurrentDepth == 1 &&
                                                             (reader.ValueTextEquals("apiVersion"u8) || reader.ValueTextEquals("kind"u8)):
                            reader.Read(); // a string, as the scan found
                            break;
                        case JsonTokenType.PropertyName:
                            writer.WritePropertyName(Unescaped(ref reader, ref rented));
                            break;
                        case JsonTokenType.String:
                            writer.WriteStringValue(Unescaped(ref reader, ref rented));
                            break;
                        case JsonTokenType.Number:
                            writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                            break;
                        case JsonTokenType.True or JsonTokenType.False:
                            writer.WriteBooleanValue(reader.TokenType == JsonTokenType.True);
                            break;
                        case JsonTokenType.Null:
                            writer.WriteNullValue();
                            break;
                        case JsonTokenType.StartObject:
                            writer.WriteStartObject();
                            break;
                        case JsonTokenType.EndObject:
                            writer.WriteEndObject();
                            break;
                        case JsonTokenType.StartArray:
                            writer.WriteStartArray();
                            break;
                        case JsonTokenType.EndArray:
                            writer.WriteEndArray();
                            break;
                    }
                }
            }
            return buffer.WrittenSpan.ToArray();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The token's text unescaped (as the tree keeps it), in <paramref name="rented"/> when it had escapes.</summary>
    private static ReadOnlySpan<byte> Unescaped(ref Utf8JsonReader reader, ref byte[]? rented)
    {
        if (!reader.ValueIsEscaped) return reader.ValueSpan;
        if (rented is null || rented.Length < reader.ValueSpan.Length)
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            rented = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(reader.ValueSpan.Length, 256));
        }
        // unescaped text is never longer than its escaped form; invalid UTF-8 after unescaping throws
        var length = reader.CopyString(rented);
        return rented.AsSpan(0, length);
    }

    /// <summary>Reads a JSON tree back into the resource's model; a tree that does not fit is a 400, or what
    /// <paramref name="doesNotFit"/> makes of the decoder's message (a patched object).</summary>
    public static IKubernetesObject<V1ObjectMeta> FromJson(JsonNode json, ResourceDescription resource,
        Func<string, ApiException>? doesNotFit = null)
    {
        if (JsonBody.Depth(json) > BodyLimits.MaxDepth)
            throw new ApiException(422, "Invalid",
                $"{resource.Kind} in version \"{resource.Version}\" cannot be handled as a {resource.Kind}: " +
                $"the object nests deeper than {BodyLimits.MaxDepth} levels");
        return (IKubernetesObject<V1ObjectMeta>)Deserialize(() => json.ToJsonString(), resource.ObjectType, resource.Kind, resource,
            doesNotFit);
    }

    public static object Deserialize(string json, Type type, string kindForMessage, ResourceDescription? resource = null) =>
        Deserialize(() => json, type, kindForMessage, resource);

    private static object Deserialize(Func<string> json, Type type, string kindForMessage, ResourceDescription? resource,
        Func<string, ApiException>? doesNotFit = null)
    {
        var text = "";
        try
        {
            text = json();
            return KubeObjects.Deserialize(text, type);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentException
                                      or NotSupportedException or OverflowException)
        {
            var version = resource?.Version ?? "v1";
            var problem = GoJsonErrors.Describe(e, text, type);
            throw doesNotFit?.Invoke(problem) ??
                  ApiException.BadRequest($"{kindForMessage} in version \"{version}\" cannot be handled as a {kindForMessage}: {problem}");
        }
    }

    public static T Deserialize<T>(string json, string kindForMessage) =>
        (T)Deserialize(json, typeof(T), kindForMessage);

    /// <summary>A JSON tree (a parsed body, a patched Scale) as a model object, with the depth checked first.</summary>
    public static T Deserialize<T>(JsonNode json, string kindForMessage)
    {
        if (JsonBody.Depth(json) > BodyLimits.MaxDepth)
            throw ApiException.BadRequest($"{kindForMessage} in version \"v1\" cannot be handled as a {kindForMessage}: " +
                                          $"the object nests deeper than {BodyLimits.MaxDepth} levels");
        return (T)Deserialize(() => json.ToJsonString(), typeof(T), kindForMessage, null);
    }
}
