using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.CustomResources;
using Orchestrator.Master.Tests.Registry;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>
/// Answers in protobuf (ProtobufEncoder, ProtobufAnswers): an object's protobuf answer decodes, with the request-body
/// decoder, to its JSON answer — for the complete objects of ClusterKindsRoundTripTests and StatusKindsRoundTripTests, and
/// for an object of every built-in kind with a message; the envelope, list, Status and watch frame are laid out as kube's
/// serializers lay them out (checked against ProtoWriter, which writes field numbers by hand).
/// </summary>
public class ProtobufAnswerTests
{
    public static TheoryData<string> Complete =>
        [.. ClusterKindsRoundTripTests.Objects.Keys.Select(k => "cluster:" + k), .. StatusKindsRoundTripTests.Objects.Keys.Select(k => "status:" + k)];

    private static (ResourceDescription Resource, string Json) CompleteObject(string name) =>
        name.StartsWith("cluster:", StringComparison.Ordinal)
            ? ClusterKindsRoundTripTests.Objects[name["cluster:".Length..]]
            : StatusKindsRoundTripTests.Objects[name["status:".Length..]];

    [Theory]
    [MemberData(nameof(Complete))]
    public void A_complete_objects_protobuf_answer_decodes_to_its_json_answer(string name)
    {
        var (resource, text) = CompleteObject(name);
        AnswerDecodesToJsonAnswer(resource, JsonNode.Parse(text)!.AsObject());
    }

    public static TheoryData<string> BuiltInKinds =>
        [.. BuiltIn.All.Concat(CustomResourceDefinitionResources.All).Where(r => ProtobufBodyDecoder.MessageOf(r) is not null).Select(r => r.ToString())];

    /// <summary>Every built-in kind's answer: its metadata (times, labels, owners, managed fields) in its message.</summary>
    [Theory]
    [MemberData(nameof(BuiltInKinds))]
    public void Every_built_in_kinds_protobuf_answer_decodes_to_its_json_answer(string name)
    {
        var resource = BuiltIn.All.Concat(CustomResourceDefinitionResources.All).First(r => r.ToString() == name);
        var json = JsonNode.Parse("""
            {
             "metadata":{"name":"x1","uid":"0b7c6e1a-33a1-4bd5-9d1e-2c1f5d1a0001","resourceVersion":"42","generation":3,
               "creationTimestamp":"2024-05-01T10:00:00Z","labels":{"app":"web","tier":""},"annotations":{"note":"a \"quoted\" value"},
               "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u-1","controller":true,"blockOwnerDeletion":false}],
               "finalizers":["example.com/keep"],
               "managedFields":[{"manager":"kubectl","operation":"Update","apiVersion":"v1","time":"2024-05-01T10:00:00Z",
                 "fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}}]}}
            """)!.AsObject();
        json["apiVersion"] = resource.GroupVersion;
        json["kind"] = resource.Kind;
        if (resource.Namespaced) json["metadata"]!["namespace"] = "default";
        AnswerDecodesToJsonAnswer(resource, json);
    }

    private static void AnswerDecodesToJsonAnswer(ResourceDescription resource, JsonObject json)
    {
        var obj = ObjectJson.FromJson(json, resource);
        var jsonAnswer = ObjectJson.ToJson(obj, resource);

        var answer = ProtobufAnswers.Object(obj, resource);

        Assert.True(ProtobufBodyDecoder.TryDecode(answer, resource, out var decoded, out var error), error);
        Assert.Equal(ProtobufRoundTrip.Canonical(jsonAnswer), ProtobufRoundTrip.Canonical(ObjectJson.ToJson(decoded!, resource)));
    }

    [Fact]
    public void The_envelope_is_magic_then_type_meta_raw_and_two_empty_strings_as_kube_writes_it()
    {
        var raw = new ProtoWriter().String(1, "x").ToArray();

        Assert.Equal(ProtoWriter.Envelope("apps/v1", "Deployment", raw), ProtobufEncoder.Envelope("apps/v1", "Deployment", raw));
    }

    [Fact]
    public void An_error_status_is_a_v1_status_with_kubernetes_field_numbers()
    {
        var status = StatusResponses.Failure(new ApiException(404, "NotFound", "namespaces \"gone\" not found",
            new k8s.Models.V1StatusDetails { Name = "gone", Kind = "namespaces", Group = "g" }) { Continue = "token" });

        var expected = new ProtoWriter()
            .Message(1, m => m.String(3, "token"))
            .String(2, "Failure")
            .String(3, "namespaces \"gone\" not found")
            .String(4, "NotFound")
            .Message(5, d => d.String(1, "gone").String(2, "g").String(3, "namespaces"))
            .Varint(6, 404);
        Assert.Equal(ProtoWriter.Envelope("v1", "Status", expected), ProtobufEncoder.EncodeStatus(status));
    }

    [Fact]
    public void A_list_is_its_list_meta_then_each_items_message()
    {
        var ns = BuiltIn.Namespaces;
        var a = ObjectJson.FromJson(JsonNode.Parse("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a","resourceVersion":"5"}}""")!, ns);
        var b = ObjectJson.FromJson(JsonNode.Parse("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"b","resourceVersion":"6"}}""")!, ns);

        var list = ProtobufEncoder.EncodeList("v1", "NamespaceList", JsonNode.Parse("""{"resourceVersion":"7","continue":"c"}""")!.AsObject(),
            [ProtobufEncoder.Encode(ObjectJson.ToJson(a, ns), ProtobufBodyDecoder.MessageOf(ns)!),
             ProtobufEncoder.Encode(ObjectJson.ToJson(b, ns), ProtobufBodyDecoder.MessageOf(ns)!)]);

        var expected = new ProtoWriter()
            .Message(1, m => m.String(2, "7").String(3, "c"))
            .Message(2, i => i.Message(1, m => m.String(1, "a").String(6, "5")))
            .Message(2, i => i.Message(1, m => m.String(1, "b").String(6, "6")));
        Assert.Equal(ProtoWriter.Envelope("v1", "NamespaceList", expected), list);
    }

    [Fact]
    public void A_watch_frame_is_a_big_endian_length_then_the_raw_watch_event()
    {
        var obj = ProtoWriter.Envelope("v1", "Namespace", new ProtoWriter().Message(1, m => m.String(1, "a")));

        var frame = ProtobufEncoder.WatchFrame("ADDED", obj);

        var expected = new ProtoWriter().String(1, "ADDED").Message(2, r => r.Bytes(1, obj)).ToArray();
        Assert.Equal(expected.Length, (int)BinaryPrimitives.ReadUInt32BigEndian(frame));
        Assert.Equal(expected, frame[4..]);
    }

    [Fact]
    public void A_field_the_message_lacks_fails_the_encoding_rather_than_vanishing()
    {
        var json = JsonNode.Parse("""{"metadata":{"name":"a"},"spec":{"notAField":1}}""")!.AsObject();

        var e = Assert.Throws<InvalidOperationException>(() => ProtobufEncoder.Encode(json, ProtobufBodyDecoder.MessageOf(BuiltIn.Namespaces)!));
        Assert.Contains("notAField", e.Message);
    }

    [Theory]
    [InlineData("application/vnd.kubernetes.protobuf", "Object")]
    [InlineData("application/vnd.kubernetes.protobuf;stream=watch", "Object")]
    [InlineData("application/vnd.kubernetes.protobuf, */*;q=0", "Object")]
    [InlineData("application/vnd.kubernetes.protobuf, application/json;q=0", "Object")]
    [InlineData("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io", "Converted")]
    [InlineData("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/vnd.kubernetes.protobuf", "Object")]
    // client-go with the protobuf content type, and kubectl: JSON is admitted, the answer stays JSON
    [InlineData("application/vnd.kubernetes.protobuf, */*", "No")]
    [InlineData("application/vnd.kubernetes.protobuf,application/json", "No")]
    [InlineData("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json", "No")]
    [InlineData("application/vnd.kubernetes.protobuf;q=0.5, application/yaml", "No")]
    [InlineData("application/vnd.kubernetes.protobuf;q=0, application/xml", "No")]
    [InlineData("text/html", "No")]
    [InlineData("", "No")]
    [InlineData(null, "No")]
    public void Protobuf_is_answered_only_to_a_client_that_admits_it_and_not_json(string? accept, string expected) =>
        Assert.Equal(expected, ContentNegotiation.Protobuf(accept).ToString());
}
