using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Registry.Catalog;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>The two round trips the protobuf kind tests make of a complete object: JSON → its wire message → JSON, and
/// a protobuf body decoded to the object its JSON body is (compared as key-sorted JSON).</summary>
internal static class ProtobufRoundTrip
{
    /// <summary>The object written as its wire message decodes to the same JSON (without apiVersion and kind).</summary>
    public static void ComesBackAsTheSameJson(ResourceDescription resource, string text)
    {
        var json = JsonNode.Parse(text)!.AsObject();
        var descriptor = ProtobufBodyDecoder.MessageOf(resource);
        Assert.NotNull(descriptor);

        var back = ProtobufJson.ToJson(descriptor.Parser.ParseFrom(ProtobufEncoder.Encode(json, descriptor)));

        var expected = (JsonObject)json.DeepClone();
        expected.Remove("apiVersion");
        expected.Remove("kind");
        Assert.Equal(Canonical(expected), Canonical(back));
    }

    /// <summary>The object as a protobuf body decodes to what its JSON body decodes to; the decoded object's JSON.</summary>
    public static JsonObject DecodesAsItsJsonBody(ResourceDescription resource, string text)
    {
        var json = JsonNode.Parse(text)!.AsObject();
        var body = ProtoWriter.Envelope(resource.GroupVersion, resource.Kind, ProtobufEncoder.Encode(json, ProtobufBodyDecoder.MessageOf(resource)!));

        Assert.True(ProtobufBodyDecoder.TryDecode(body, resource, out var decoded, out var error), error);

        var fromJson = ObjectJson.FromJson(json, resource);
        var decodedJson = ObjectJson.ToJson(decoded!, resource);
        Assert.Equal(Canonical(ObjectJson.ToJson(fromJson, resource)), Canonical(decodedJson));
        return decodedJson;
    }

    /// <summary>The JSON with every object's keys sorted, for comparing objects whatever their key order.</summary>
    public static string Canonical(JsonNode? node) => Sort(node)?.ToJsonString() ?? "null";

    private static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Sort(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Sort)]),
        null => null,
        _ => JsonNode.Parse(node.ToJsonString()),
    };
}
