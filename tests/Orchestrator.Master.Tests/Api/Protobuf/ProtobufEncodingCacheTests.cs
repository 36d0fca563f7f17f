using k8s.Models;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>
/// A stored object's protobuf answer is made once per resourceVersion and kept beside its JSON (EncodedObjects), as the
/// JSON is: a protobuf watch's watchers and a get, a list's items all write the same bytes — the bytes a fresh encoding of
/// its JSON answer makes. A new version of the object is a new instance and is encoded afresh; an object without a
/// resourceVersion (not from the store) is encoded every time.
/// </summary>
public sealed class ProtobufEncodingCacheTests
{
    private static V1Namespace Namespace(string rv, string label) => new()
    {
        ApiVersion = "v1", Kind = "Namespace",
        Metadata = new V1ObjectMeta { Name = "kept", ResourceVersion = rv, Labels = new Dictionary<string, string> { ["v"] = label } },
    };

    private static byte[] Fresh(V1Namespace ns) =>
        ProtobufEncoder.Envelope("v1", "Namespace", ProtobufEncoder.Encode(
            System.Text.Json.Nodes.JsonNode.Parse(KubeObjects.Serialize(ns))!.AsObject(),
            ProtobufBodyDecoder.MessageOf(BuiltIn.Namespaces)!));

    [Fact]
    public void A_stored_objects_protobuf_answer_is_encoded_once_per_version()
    {
        var first = Namespace("10", "one");

        var answer = ProtobufAnswers.Object(first, BuiltIn.Namespaces);
        var again = ProtobufAnswers.Object(first, BuiltIn.Namespaces);

        Assert.Same(answer, again);
        Assert.Equal(Fresh(first), answer);
        var frames = (ProtobufAnswers.WatchFrame("MODIFIED", first, BuiltIn.Namespaces), ProtobufAnswers.WatchFrame("MODIFIED", first, BuiltIn.Namespaces));
        Assert.Equal(frames.Item1, frames.Item2);
        Assert.Same(answer, ProtobufAnswers.Object(first, BuiltIn.Namespaces));

        var next = Namespace("11", "two");
        var nextAnswer = ProtobufAnswers.Object(next, BuiltIn.Namespaces);
        Assert.NotEqual(answer, nextAnswer);
        Assert.Equal(Fresh(next), nextAnswer);
    }

    [Fact]
    public void An_object_without_a_resource_version_is_encoded_each_time()
    {
        var unstored = Namespace("", "x");

        var answer = ProtobufAnswers.Object(unstored, BuiltIn.Namespaces);

        Assert.NotSame(answer, ProtobufAnswers.Object(unstored, BuiltIn.Namespaces));
        Assert.Equal(Fresh(unstored), answer);
    }
}
