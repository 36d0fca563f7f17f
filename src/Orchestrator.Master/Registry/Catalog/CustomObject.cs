using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Orchestrator.Master.Registry.Catalog;

/// <summary>
/// An object of a custom resource: typed apiVersion, kind and metadata (what the store, watches and the garbage
/// collector read of every object) and every other field as JSON, in the order it came. Serializes through
/// KubernetesJson like the built-in models (its converter writes metadata with KubernetesJson's options), so the
/// store persists, clones and compares it the same way.
/// </summary>
[JsonConverter(typeof(CustomObjectConverter))]
internal sealed class CustomObject : IKubernetesObject<V1ObjectMeta>
{
    public string ApiVersion { get; set; } = "";

    public string Kind { get; set; } = "";

    public V1ObjectMeta Metadata { get; set; } = new();

    /// <summary>Everything but apiVersion, kind and metadata (spec, status, data, …).</summary>
    public JsonObject Fields { get; set; } = new();
}

/// <summary>A custom object is a JSON object: apiVersion, kind, metadata, then its other fields.</summary>
internal sealed class CustomObjectConverter : JsonConverter<CustomObject>
{
    public override CustomObject Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (JsonNode.Parse(ref reader) is not JsonObject json) throw new JsonException("a custom object must be a JSON object");
        var obj = new CustomObject
        {
            ApiVersion = json["apiVersion"] is JsonValue v && v.TryGetValue<string>(out var apiVersion) ? apiVersion : "",
            Kind = json["kind"] is JsonValue k && k.TryGetValue<string>(out var kind) ? kind : "",
            Metadata = json["metadata"] is JsonObject metadata
                ? metadata.Deserialize<V1ObjectMeta>(options) ?? new V1ObjectMeta()
                : json["metadata"] is null ? new V1ObjectMeta() : throw new JsonException("metadata must be an object"),
        };
        foreach (var (key, value) in json.ToList())
        {
            if (key is "apiVersion" or "kind" or "metadata") continue;
            json.Remove(key);
            obj.Fields[key] = value;
        }
        return obj;
    }

    public override void Write(Utf8JsonWriter writer, CustomObject value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("apiVersion", value.ApiVersion);
        writer.WriteString("kind", value.Kind);
        writer.WritePropertyName("metadata");
        JsonSerializer.Serialize(writer, value.Metadata, options);
        foreach (var (key, field) in value.Fields)
        {
            writer.WritePropertyName(key);
            if (field is null) writer.WriteNullValue();
            else field.WriteTo(writer, options);
        }
        writer.WriteEndObject();
    }
}
