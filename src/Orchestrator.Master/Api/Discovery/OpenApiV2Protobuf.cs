using System.Text.Json.Nodes;
using Google.Protobuf;

namespace Orchestrator.Master.Api.Discovery;

/// <summary>
/// The Swagger 2.0 document as kubectl reads /openapi/v2: a gnostic openapi_v2.Document in protobuf (field numbers of
/// gnostic-models' OpenAPIv2.proto). It carries what clients read from it — swagger, info and every definition with
/// its $ref, type, format, description, required, properties, items, allOf, additionalProperties and vendor
/// extensions (x-kubernetes-group-version-kind, patch strategies) — and no paths (those are in the JSON form).
/// </summary>
internal static class OpenApiV2Protobuf
{
    public static byte[] Encode(JsonObject swagger) => Message(o =>
    {
        String(o, 1, swagger["swagger"]?.ToString() ?? "2.0");
        if (swagger["info"] is JsonObject info)
            Bytes(o, 2, Message(i =>
            {
                String(i, 1, info["title"]?.ToString() ?? "");
                String(i, 2, info["version"]?.ToString() ?? "");
            }));
        if (swagger["definitions"] is JsonObject definitions)
            Bytes(o, 9, Message(d =>
            {
                foreach (var (name, schema) in definitions)
                    if (schema is JsonObject s) Bytes(d, 1, NamedSchema(name, s));
            }));
    });

    private static byte[] NamedSchema(string name, JsonObject schema) => Message(n =>
    {
        String(n, 1, name);
        Bytes(n, 2, Schema(schema));
    });

    /// <summary>One schema, in the shape kubectl's parser (kube-openapi proto) accepts: a reference wrapped in allOf to
    /// carry a description is a plain reference (a boolean additionalProperties has no place here). An object without
    /// properties stays without them, as gnostic encodes kube-apiserver's: kubectl takes it for a map of anything,
    /// whereas empty properties would make it a kind without fields, every field of which its validation refuses
    /// (a custom resource keeping unknown fields, validated as an item of a List, was refused so).</summary>
    private static byte[] Schema(JsonObject schema) => Message(o =>
    {
        if (schema["allOf"] is JsonArray { Count: 1 } wrapped && wrapped[0] is JsonObject { Count: 1 } only && only["$ref"] is { } reference)
        {
            schema = (JsonObject)schema.DeepClone();
            schema.Remove("allOf");
            schema["$ref"] = reference.DeepClone();
        }
        foreach (var (key, value) in schema)
        {
            switch (key)
            {
                case "$ref": String(o, 1, value!.ToString()); break;
                case "format": String(o, 2, value!.ToString()); break;
                case "title": String(o, 3, value!.ToString()); break;
                case "description": String(o, 4, value!.ToString()); break;
                case "required" when value is JsonArray required:
                    foreach (var field in required) String(o, 19, field!.ToString());
                    break;
                case "additionalProperties" when value is JsonObject additional:
                    Bytes(o, 21, Message(a => Bytes(a, 1, Schema(additional))));
                    break;
                case "type":
                    Bytes(o, 22, Message(t => String(t, 1, value!.ToString())));
                    break;
                case "items" when value is JsonObject items:
                    Bytes(o, 23, Message(i => Bytes(i, 1, Schema(items))));
                    break;
                case "allOf" when value is JsonArray all:
                    foreach (var part in all.OfType<JsonObject>()) Bytes(o, 24, Schema(part));
                    break;
                case "properties" when value is JsonObject properties:
                    Bytes(o, 25, Message(p =>
                    {
                        foreach (var (name, property) in properties)
                            if (property is JsonObject ps) Bytes(p, 1, NamedSchema(name, ps));
                    }));
                    break;
                case var extension when extension.StartsWith("x-", StringComparison.Ordinal):
                    // A vendor extension's value travels as YAML text; JSON is YAML.
                    Bytes(o, 31, Message(e =>
                    {
                        String(e, 1, extension);
                        Bytes(e, 2, Message(a => String(a, 2, value?.ToJsonString() ?? "null")));
                    }));
                    break;
            }
        }
    });

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true)) write(output);
        return buffer.ToArray();
    }

    private static void String(CodedOutputStream output, int field, string value)
    {
        if (value.Length == 0) return;
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    private static void Bytes(CodedOutputStream output, int field, byte[] value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(value));
    }
}
