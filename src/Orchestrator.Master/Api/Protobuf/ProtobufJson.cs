using Orchestrator.Master.Api.Http;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Protobuf;

/// <summary>
/// Turns any decoded wire message (Api/Protobuf/Messages) into the JSON the same object has in Kubernetes, by walking
/// its descriptor: field names are the JSON names; Go's omitempty is kept — a scalar without presence is absent when
/// zero, a proto3 <c>optional</c> one (a Go pointer) is present when set, even to zero; empty lists and maps are
/// absent; an <c>inline</c> field's fields join its parent's; bytes are base64. Kubernetes' value messages become
/// their JSON values: Time and MicroTime RFC 3339 strings with what precision they carry (a Time without seconds is
/// Go's zero time: absent),
/// Duration Go's duration text, IntOrString a number or string, Quantity its string, RawExtension and FieldsV1 their
/// raw JSON. A CRD schema's JSON (default, enum, example) is its raw JSON too, and its JSONSchemaPropsOr… unions the
/// one JSON value their Go MarshalJSON writes: a schema or a list, a schema or a boolean, a list of names or a schema.
/// </summary>
internal static class ProtobufJson
{
    private const string Meta = "k8s.io.apimachinery.pkg.apis.meta.v1.";
    private const string ApiExtensions = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.";

    public static JsonObject ToJson(IMessage message)
    {
        var json = new JsonObject();
        Fill(json, message);
        return json;
    }

    private static void Fill(JsonObject json, IMessage message)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (IsInline(field))
            {
                if (field.Accessor.GetValue(message) is IMessage embedded) Fill(json, embedded);
                continue;
            }
            if (FieldValue(field, message) is { } value) json[field.JsonName] = value;
        }
    }

    private static JsonNode? FieldValue(FieldDescriptor field, IMessage message)
    {
        var value = field.Accessor.GetValue(message);
        if (field.IsMap)
        {
            var map = (IDictionary)value;
            if (map.Count == 0) return null;
            var valueField = field.MessageType.FindFieldByNumber(2);
            var json = new JsonObject();
            foreach (DictionaryEntry entry in map)
                json[Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!] = Single(valueField, entry.Value, pointer: true);
            return json;
        }
        if (field.IsRepeated)
        {
            var list = (IList)value;
            if (list.Count == 0) return null;
            var json = new JsonArray();
            foreach (var item in list) json.Add(Single(field, item, pointer: true));
            return json;
        }
        if (field.HasPresence && !field.Accessor.HasValue(message)) return null;
        var pointer = field.ContainingOneof?.IsSynthetic == true;
        if (!field.HasPresence && IsZero(value)) return null;
        return Single(field, value, pointer);
    }

    /// <summary>One value of the field's type; <paramref name="pointer"/> keeps a zero value message (IntOrString 0).</summary>
    private static JsonNode? Single(FieldDescriptor field, object? value, bool pointer) => field.FieldType switch
    {
        FieldType.String => JsonValue.Create((string)value!),
        FieldType.Bool => JsonValue.Create((bool)value!),
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => JsonValue.Create((int)value!),
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => JsonValue.Create((long)value!),
        FieldType.UInt32 or FieldType.Fixed32 => JsonValue.Create((uint)value!),
        FieldType.UInt64 or FieldType.Fixed64 => JsonValue.Create((ulong)value!),
        FieldType.Double => JsonValue.Create((double)value!),
        FieldType.Float => JsonValue.Create((float)value!),
        FieldType.Bytes => JsonValue.Create(((ByteString)value!).ToBase64()),
        FieldType.Message => Message((IMessage)value!, pointer),
        _ => throw new MalformedBodyException($"field {field.FullName} has a type the decoder does not know"),
    };

    private static JsonNode? Message(IMessage message, bool pointer)
    {
        var descriptor = message.Descriptor;
        switch (descriptor.FullName)
        {
            case Meta + "Time":
                return Instant(message) is { } time ? JsonValue.Create(time.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)) : null;
            case Meta + "MicroTime":
                return Instant(message) is { } micro
                    ? JsonValue.Create(micro.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture))
                    : null;
            case Meta + "Duration":
                return JsonValue.Create(GoDuration((long)Get(message, 1)!));
            case Meta + "FieldsV1" or "k8s.io.apimachinery.pkg.runtime.RawExtension" or ApiExtensions + "JSON":
                return RawJson((ByteString)Get(message, 1)!);
            case ApiExtensions + "JSONSchemaPropsOrArray":
                // the list when it has schemas, else the one schema (null without one)
                var schemas = (IList)Get(message, 2)!;
                if (schemas.Count > 0) return new JsonArray([.. schemas.Cast<IMessage>().Select(s => (JsonNode?)ToJson(s))]);
                return Has(message, 1) ? ToJson((IMessage)Get(message, 1)!) : null;
            case ApiExtensions + "JSONSchemaPropsOrBool":
                // the schema when set, else the boolean
                return Has(message, 2) ? ToJson((IMessage)Get(message, 2)!) : JsonValue.Create((bool)Get(message, 1)!);
            case ApiExtensions + "JSONSchemaPropsOrStringArray":
                // the property names when there are some, else the schema (null without one)
                var names = (IList)Get(message, 2)!;
                if (names.Count > 0) return new JsonArray([.. names.Cast<string>().Select(n => (JsonNode?)JsonValue.Create(n))]);
                return Has(message, 1) ? ToJson((IMessage)Get(message, 1)!) : null;
            case "k8s.io.api.authorization.v1.ExtraValue" or "k8s.io.api.certificates.v1.ExtraValue" or "k8s.io.api.authentication.v1.ExtraValue":
                // Go's ExtraValue is a []string: its JSON is the list itself
                return new JsonArray([.. ((IEnumerable<string>)Get(message, 1)!).Select(v => (JsonNode?)JsonValue.Create(v))]);
            case "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
                var isString = (long)Get(message, 1)! == 1;
                var text = (string)Get(message, 3)!;
                var number = (int)Get(message, 2)!;
                if (!pointer && (isString ? text.Length == 0 : number == 0)) return null;
                return isString ? JsonValue.Create(text) : JsonValue.Create(number);
            case "k8s.io.apimachinery.pkg.api.resource.Quantity":
                var quantity = (string)Get(message, 1)!;
                if (quantity.Length == 0) return pointer ? JsonValue.Create("0") : null;
                try
                {
                    _ = Quantities.Parse(quantity);
                }
                catch (FormatException e)
                {
                    throw new MalformedBodyException($"invalid quantity \"{quantity}\": {e.Message}");
                }
                return JsonValue.Create(quantity);
            default:
                return ToJson(message);
        }
    }

    private static object? Get(IMessage message, int number) =>
        message.Descriptor.FindFieldByNumber(number).Accessor.GetValue(message);

    private static bool Has(IMessage message, int number) =>
        message.Descriptor.FindFieldByNumber(number).Accessor.HasValue(message);

    /// <summary>A Time or MicroTime: null when neither seconds nor nanos are on the wire (Go's zero time).</summary>
    private static DateTime? Instant(IMessage message)
    {
        if (!Has(message, 1) && !Has(message, 2)) return null;
        var seconds = (long)Get(message, 1)!;
        var nanos = (int)Get(message, 2)!;
        try
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.AddTicks(nanos / 100);
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new MalformedBodyException($"the time {seconds}s is out of range");
        }
    }

    private static JsonNode? RawJson(ByteString raw)
    {
        if (raw.IsEmpty) return null;
        try
        {
            return JsonNode.Parse(raw.Span);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new MalformedBodyException($"embedded JSON is not valid: {e.Message}");
        }
    }

    private static bool IsZero(object? value) => value switch
    {
        null => true,
        string s => s.Length == 0,
        bool b => !b,
        int i => i == 0,
        long l => l == 0,
        uint u => u == 0,
        ulong u => u == 0,
        double d => d == 0,
        float f => f == 0,
        ByteString b => b.IsEmpty,
        _ => false,
    };

    private static bool IsInline(FieldDescriptor field) =>
        field.FieldType == FieldType.Message && field.GetOptions()?.GetExtension(Wire.WireExtensions.Inline) == true;

    /// <summary>Go's time.Duration.String(): "1h2m3.5s", "1.5s", "2ms", "0s".</summary>
    public static string GoDuration(long nanoseconds)
    {
        if (nanoseconds == 0) return "0s";
        var negative = nanoseconds < 0;
        var n = (ulong)(negative ? -nanoseconds : nanoseconds);
        var text = new StringBuilder();
        if (n < 1_000_000_000UL)
        {
            var (unit, scale) = n < 1_000UL ? ("ns", 1UL) : n < 1_000_000UL ? ("µs", 1_000UL) : ("ms", 1_000_000UL);
            text.Append(Fraction(n, scale)).Append(unit);
        }
        else
        {
            var hours = n / 3_600_000_000_000UL;
            var minutes = n / 60_000_000_000UL % 60;
            var seconds = n % 60_000_000_000UL;
            if (hours > 0) text.Append(hours).Append('h');
            if (hours > 0 || minutes > 0) text.Append(minutes).Append('m');
            text.Append(Fraction(seconds, 1_000_000_000UL)).Append('s');
        }
        return (negative ? "-" : "") + text;
    }

    private static string Fraction(ulong value, ulong scale)
    {
        var whole = value / scale;
        var rest = value % scale;
        if (rest == 0) return whole.ToString(CultureInfo.InvariantCulture);
        var digits = scale.ToString(CultureInfo.InvariantCulture).Length - 1;
        return $"{whole}.{rest.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0').TrimEnd('0')}";
    }
}

