using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>
/// Writes an object's JSON as its wire message (the inverse of ProtobufJson), for round trips: JSON → protobuf → JSON.
/// A JSON field the message does not declare fails the encoding, so a round trip of a complete object shows the
/// message leaves nothing out. Field numbers come from the decoder's own .proto files here: the hand-encoded
/// (ProtoWriter) tests are the ones that check them against Kubernetes'.
/// </summary>
internal static class JsonToProtobuf
{
    private const string Meta = "k8s.io.apimachinery.pkg.apis.meta.v1.";
    private const string ApiExtensions = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.";

    /// <summary>The object's message bytes (apiVersion and kind are the envelope's, not the message's).</summary>
    public static byte[] Encode(JsonObject json, MessageDescriptor descriptor)
    {
        var body = (JsonObject)json.DeepClone();
        body.Remove("apiVersion");
        body.Remove("kind");
        return Object(descriptor, body).ToByteArray();
    }

    private static IMessage Object(MessageDescriptor descriptor, JsonObject json)
    {
        var message = New(descriptor);
        foreach (var (name, value) in json)
        {
            if (value is null) continue;
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
        FieldType.Int32 => value.GetValue<int>(),
        FieldType.Int64 => value.GetValue<long>(),
        FieldType.Double => value.GetValue<double>(),
        FieldType.Bytes => ByteString.FromBase64(value.GetValue<string>()),
        FieldType.Message => Message(field.MessageType, value),
        var type => throw new NotSupportedException($"{field.FullName}: {type}"),
    };

    private static object Zero(FieldDescriptor field) => field.FieldType == FieldType.Message ? New(field.MessageType) : "";

    private static IMessage Message(MessageDescriptor descriptor, JsonNode value)
    {
        var message = New(descriptor);
        switch (descriptor.FullName)
        {
            case Meta + "Time" or Meta + "MicroTime":
                var time = DateTimeOffset.Parse(value.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
                Put(message, 1, time.ToUnixTimeSeconds());
                Put(message, 2, (int)(time.UtcTicks % TimeSpan.TicksPerSecond * 100));
                return message;
            case Meta + "FieldsV1" or "k8s.io.apimachinery.pkg.runtime.RawExtension" or ApiExtensions + "JSON":
                Put(message, 1, ByteString.CopyFrom(Encoding.UTF8.GetBytes(value.ToJsonString())));
                return message;
            case "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
                var isString = value.GetValueKind() == JsonValueKind.String;
                Put(message, 1, isString ? 1L : 0L);
                Put(message, 2, isString ? 0 : value.GetValue<int>());
                Put(message, 3, isString ? value.GetValue<string>() : "");
                return message;
            case "k8s.io.apimachinery.pkg.api.resource.Quantity":
                Put(message, 1, value.GetValue<string>());
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

    private static void Put(IMessage message, int number, object value) =>
        message.Descriptor.FindFieldByNumber(number).Accessor.SetValue(message, value);

    private static void Add<T>(IMessage message, int number, IEnumerable<T> values)
    {
        var list = (IList)message.Descriptor.FindFieldByNumber(number).Accessor.GetValue(message);
        foreach (var value in values) list.Add(value);
    }

    private static IMessage New(MessageDescriptor descriptor) => (IMessage)Activator.CreateInstance(descriptor.ClrType)!;

    private static bool IsInline(FieldDescriptor field) =>
        field.FieldType == FieldType.Message &&
        field.GetOptions()?.GetExtension(Orchestrator.Master.Api.Protobuf.Wire.WireExtensions.Inline) == true;
}
