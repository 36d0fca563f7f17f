using System.Text.Json.Nodes;
using Orchestrator.Master.Registry.Tables;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Tables;

public sealed class JsonPathTests
{
    private static readonly JsonNode Doc = JsonNode.Parse("""
        {"spec":{"replicas":3,"items":[{"name":"a"},{"name":"b"}]},
         "status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Synced","status":"False"}]}}
        """)!;

    [Theory]
    [InlineData(".spec.replicas", "3")]
    [InlineData("{.spec.items[1].name}", "b")]
    [InlineData(".spec.items[*].name", "a b")]
    [InlineData(".status.conditions[?(@.type==\"Synced\")].status", "False")]
    [InlineData(".spec.missing", "")]
    public void Paths_find_what_kubectl_finds(string path, string expected) =>
        Assert.Equal(expected, string.Join(" ", JsonPath.Parse(path).Find(Doc).Select(JsonPath.Text)));

    [Fact]
    public void A_path_not_starting_with_a_dot_is_refused() =>
        Assert.Throws<FormatException>(() => JsonPath.Parse("spec.replicas"));
}
