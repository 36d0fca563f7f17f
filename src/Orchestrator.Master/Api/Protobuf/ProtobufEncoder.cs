using System.Buffers.Binary;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Orchestrator.Master.Api.Protobuf;

/// <summary>
/// Writes answers as <c>application/vnd.kubernetes.protobuf</c>, the inverse of <see cref="ProtobufJson"/>: an object's
/// JSON becomes its 1.32 wire message (Api/Protobuf/Messages), wrapped as kube's protobuf serializer wraps it — the magic
/// "k8s\0", then a runtime.Unknown of typeMeta {apiVersion, kind}, raw (the message) and empty contentEncoding and
/// contentType, written in that order and all four present, as Unknown.NestedMarshalTo writes them. Kubernetes' value
/// messages are written from their JSON values: a Time its seconds only (metav1.Time.ProtoTime drops the nanoseconds),
/// a MicroTime seconds and nanoseconds, IntOrString all three fields, RawExtension and FieldsV1 the JSON text. A JSON
/// field the message does not declare fails the encoding (an InvalidOperationException: a 500), rather than being
/// dropped from the answer unseen.
/// </summary>
internal static class ProtobufEncoder
{
    private const string Meta = "k8s.io.apimachinery.pkg.apis.meta.v1.";
    private const string ApiExtensions = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.";

    private static ReadOnlySpan<byte> Magic => "k8s\0"u8;

    /// <summary>The object's message bytes; apiVersion and kind are the envelope's, not the message's.</summary>
    public static byte[] Encode(JsonObject json, MessageDescriptor descriptor) => Object(descriptor, json, top: true).ToByteArray();

    /// <summary>The whole answer: magic, then the runtime.Unknown around <paramref name="raw"/>.</summary>
    public static byte[] Envelope(string apiVersion, string kind, ReadOnlyMemory<byte> raw)
    {
        using var buffer = new MemoryStream(raw.Length + apiVersion.Length + kind.Length + 16);
        buffer.Write(Magic);
        var output = new CodedOutputStream(buffer, leaveOpen: true);
        // TypeMeta: both strings are written even when empty (gogo's non-nullable fields), as are the two empty strings
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteLength(CodedOutputStream.ComputeStringSize(apiVersion) + CodedOutputStream.ComputeStringSize(kind) + 2);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteString(apiVersion);
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteString(kind);
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(UnsafeByteOperations.UnsafeWrap(raw));
        output.WriteTag(3, WireFormat.WireType.LengthDelimited);
        output.WriteString("");
        output.WriteTag(4, WireFormat.WireType.LengthDelimited);
        output.WriteString("");
        output.Flush();
        return buffer.ToArray();
    }

    /// <summary>An object's whole answer.</summary>
    public static byte[] EncodeObject(JsonObject json, MessageDescriptor descriptor, string apiVersion, string kind) =>
        Envelope(apiVersion, kind, Encode(json, descriptor));

    /// <summary>A list's whole answer: every …List message of 1.32 is {ListMeta metadata = 1; repeated items = 2}, so the
    /// list is written from its metadata's JSON and its items' message bytes (<see cref="Encode"/>).</summary>
    public static byte[] EncodeList(string apiVersion, string listKind, JsonObject metadata, IReadOnlyList<byte[]> items)
    {
        using var list = new MemoryStream();
        var output = new CodedOutputStream(list, leaveOpen: true);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(UnsafeByteOperations.UnsafeWrap(Encode(metadata, Wire.Meta.ListMeta.Descriptor)));
        foreach (var item in items)
        {
            output.WriteTag(2, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(UnsafeByteOperations.UnsafeWrap(item));
        }
        output.Flush();
        return Envelope(apiVersion, listKind, list.GetBuffer().AsMemory(0, (int)list.Length));
    }

    /// <summary>A v1 Status' whole answer, from its JSON (<c>StatusResponses.Failure</c>, <c>Success</c>).</summary>
    public static byte[] EncodeStatus(JsonObject status) =>
        Envelope("v1", "Status", Encode(status, Wire.Meta.Status.Descriptor));

    /// <summary>One frame of a protobuf watch (<c>;stream=watch</c>): the 4-byte big-endian length, then the
    /// metav1.WatchEvent message itself — the stream serializer is protobuf's RawSerializer, which writes no magic and
    /// no envelope — whose object is a RawExtension holding the object's own whole answer (<paramref name="obj"/>).</summary>
    public static byte[] WatchFrame(string type, ReadOnlySpan<byte> obj)
    {
        var watchEvent = new Wire.Meta.WatchEvent
        {
            Type = type,
            Object = new Wire.Runtime.RawExtension { Raw = ByteString.CopyFrom(obj) },
        };
        var size = watchEvent.CalculateSize();
        var frame = new byte[4 + size];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)size);
        watchEvent.WriteTo(frame.AsSpan(4));
        return frame;
    }

    private static IMessage Object(MessageDescriptor descriptor, JsonObject json, bool top = false)
    {
        var message = New(descriptor);
        foreach (var (name, value) in json)
        {
            if (value is null || top && name is "apiVersion" or "kind") continue;
            if (!Set(message, name, value))
                throw new InvalidOperationException($"{descriptor.FullName} declares no field \"{name}\"");
        }
        return message;
    }

    /// <summary>Sets the field of that JSON name, looking into inline (embedded) messages too.</summary>
    private static bool Set(IMessage message, string name, JsonNode value)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (IsInline(field))
            {
                var embedded = (IMessage?)field.Accessor.GetValue(message) ?? New(field.MessageType);
                if (!Set(embedded, name, value)) continue;
                field.Accessor.SetValue(message, embedded);
                return true;
            }
            if (field.JsonName != name) continue;
            if (field.IsMap)
            {
                var map = (IDictionary)field.Accessor.GetValue(message);
                var valueField = field.MessageType.FindFieldByNumber(2);
                foreach (var (key, item) in value.AsObject())
                    map[key] = item is null ? Zero(valueField) : Single(valueField, item);
            }
            else if (field.IsRepeated)
            {
                var list = (IList)field.Accessor.GetValue(message);
                foreach (var item in value.AsArray()) list.Add(item is null ? Zero(field) : Single(field, item));
            }
            else
            {
                field.Accessor.SetValue(message, Single(field, value));
            }
            return true;
        }
        return false;
    }

    private static object Single(FieldDescriptor field, JsonNode value) => field.FieldType switch
    {
        FieldType.String => value.GetValue<string>(),
        FieldType.Bool => value.GetValue<bool>(),
        FieldType.Int32 => Number<int>(value),
        FieldType.Int64 => Number<long>(value),
        FieldType.Double => Number<double>(value),
        FieldType.Bytes => ByteString.FromBase64(value.GetValue<string>()),
        FieldType.Message => Message(field.MessageType, value),
        var type => throw new InvalidOperationException($"{field.FullName}: the encoder does not write {type} fields"),
    };

    /// <summary>A JSON number as <typeparamref name="T"/>, whether the tree holds it as parsed text or as a value.</summary>
    private static T Number<T>(JsonNode value) =>
        value is JsonValue number && number.TryGetValue<T>(out var exact) ? exact : value.Deserialize<T>()!;

    private static object Zero(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Message => New(field.MessageType),
        FieldType.Bytes => ByteString.Empty,
        _ => "",
    };

    private static IMessage Message(MessageDescriptor descriptor, JsonNode value)
    {
        var message = New(descriptor);
        switch (descriptor.FullName)
        {
            case Meta + "Time":
                Put(message, 1, Instant(value).ToUnixTimeSeconds());
                return message;
            case Meta + "MicroTime":
                var micro = Instant(value);
                Put(message, 1, micro.ToUnixTimeSeconds());
                Put(message, 2, (int)(micro.UtcTicks % TimeSpan.TicksPerSecond * 100));
                return message;
            case Meta + "FieldsV1" or "k8s.io.apimachinery.pkg.runtime.RawExtension" or ApiExtensions + "JSON":
                Put(message, 1, ByteString.CopyFrom(Encoding.UTF8.GetBytes(value.ToJsonString())));
                return message;
            case "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
                var isString = value.GetValueKind() == JsonValueKind.String;
                Put(message, 1, isString ? 1L : 0L);
                Put(message, 2, isString ? 0 : Number<int>(value));
                Put(message, 3, isString ? value.GetValue<string>() : "");
                return message;
            case "k8s.io.apimachinery.pkg.api.resource.Quantity":
                Put(message, 1, value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString());
                return message;
            case "k8s.io.api.authorization.v1.ExtraValue" or "k8s.io.api.certificates.v1.ExtraValue" or "k8s.io.api.authentication.v1.ExtraValue":
                // Go's ExtraValue is a []string: its JSON is the list itself
                Add(message, 1, value.AsArray().Select(v => v!.GetValue<string>()));
                return message;
            case ApiExtensions + "JSONSchemaPropsOrArray":
                if (value is JsonArray schemas) Add(message, 2, schemas.Select(s => Object(descriptor.FindFieldByNumber(2).MessageType, s!.AsObject())));
                else Put(message, 1, Object(descriptor.FindFieldByNumber(1).MessageType, value.AsObject()));
                return message;
            case ApiExtensions + "JSONSchemaPropsOrBool":
                if (value.GetValueKind() is JsonValueKind.True or JsonValueKind.False) Put(message, 1, value.GetValue<bool>());
                else
                {
                    Put(message, 1, true); // as Go's UnmarshalJSON sets it for a schema
                    Put(message, 2, Object(descriptor.FindFieldByNumber(2).MessageType, value.AsObject()));
                }
                return message;
            case ApiExtensions + "JSONSchemaPropsOrStringArray":
                if (value is JsonArray names) Add(message, 2, names.Select(n => n!.GetValue<string>()));
                else Put(message, 1, Object(descriptor.FindFieldByNumber(1).MessageType, value.AsObject()));
                return message;
            default:
                return Object(descriptor, value.AsObject());
        }
    }

    private static DateTimeOffset Instant(JsonNode value) =>
        DateTimeOffset.Parse(value.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static void Put(IMessage message, int number, object value) =>
        message.Descriptor.FindFieldByNumber(number).Accessor.SetValue(message, value);

    private static void Add<T>(IMessage message, int number, IEnumerable<T> values)
    {
        var list = (IList)message.Descriptor.FindFieldByNumber(number).Accessor.GetValue(message);
        foreach (var value in values) list.Add(value);
    }

    private static IMessage New(MessageDescriptor descriptor) => (IMessage)Activator.CreateInstance(descriptor.ClrType)!;

    private static bool IsInline(FieldDescriptor field) =>
        field.FieldType == FieldType.Message && field.GetOptions()?.GetExtension(Wire.WireExtensions.Inline) == true;
}

/// <summary>The error Statuses' protobuf form, for <see cref="Http.StatusResponses"/>.</summary>
internal sealed class ProtobufStatusEncoder : Http.IProtobufStatusEncoder
{
    public byte[] Encode(JsonObject status) => ProtobufEncoder.EncodeStatus(status);
}
