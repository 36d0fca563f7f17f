using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Discovery;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

public sealed class OpenApiV2ProtobufTests
{
    private static byte[] Encode(JsonObject definition) =>
        OpenApiV2Protobuf.Encode(new JsonObject { ["swagger"] = "2.0", ["definitions"] = new JsonObject { ["d"] = definition } });

    [Fact]
    public void An_object_without_properties_is_encoded_without_properties()
    {
        // kube-openapi's parser reads an object without properties as a map of anything, one with (even empty)
        // properties as a kind whose every other field kubectl's client-side validation refuses
        var bare = Encode(new JsonObject { ["type"] = "object" });
        var empty = Encode(new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() });
        Assert.NotEqual(Convert.ToHexString(empty), Convert.ToHexString(bare));
        Assert.True(bare.Length < empty.Length);
    }
}
