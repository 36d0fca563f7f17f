using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>
/// Each captured protobuf body, decoded and serialized as JSON, is the object kubectl prints for the same
/// command with --dry-run=client -o json (captured beside it): protobuf and JSON clients store the same thing.
/// Nulls and status are dropped on both sides (Go prints creationTimestamp: null and status: {}; the API
/// server ignores status on create).
/// </summary>
public class KubectlJsonEquivalenceTests
{
    [Theory]
    [InlineData("deployment-http")]
    [InlineData("deployment-web")]
    [InlineData("deployment-sleeper-command")]
    [InlineData("service-nodeport-x")]
    [InlineData("service-clusterip-y")]
    [InlineData("service-externalname-ext")]
    [InlineData("namespace-demo")]
    [InlineData("configmap-c")]
    [InlineData("secret-s")]
    public void Decoded_body_equals_what_kubectl_means_in_json(string name)
    {
        var expected = Normalize(JsonNode.Parse(File.ReadAllText(FixturePath(name + ".json")))!);
        var kind = expected["kind"]!.GetValue<string>();
        var resource = BuiltIn.FindByKind(expected["apiVersion"]!.GetValue<string>(), kind)!;

        Assert.True(ProtobufBodyDecoder.TryDecode(File.ReadAllBytes(FixturePath(name + ".bin")), resource, out var obj, out var error), error);
        var actual = Normalize(JsonNode.Parse(KubeObjects.Serialize(obj!))!);

        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {expected.ToJsonString()}\nactual   {actual.ToJsonString()}");
    }

    private static string FixturePath(string file) =>
        Path.Combine(AppContext.BaseDirectory, "Api", "Protobuf", "Fixtures", file);

    private static JsonNode Normalize(JsonNode node)
    {
        node.AsObject().Remove("status");
        DropNulls(node);
        return node;
    }

    private static void DropNulls(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Where(p => p.Value is null).Select(p => p.Key).ToList()) o.Remove(key);
                foreach (var (_, value) in o) DropNulls(value);
                break;
            case JsonArray a:
                foreach (var item in a) DropNulls(item);
                break;
        }
    }
}
