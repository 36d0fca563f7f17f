using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Patching;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Patching;

public sealed class ServerSideApplyTests
{
    private static readonly DateTime Now = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void The_field_set_names_keyed_list_elements_by_their_merge_key()
    {
        var set = Orchestrator.Master.Store.ManagedFields.FieldSet(Parse("""{"spec":{"containers":[{"name":"web","image":"a","args":["x"]}]}}"""), null, null);
        var element = Assert.Single(set["f:spec"]!["f:containers"]!.AsObject());
        Assert.Equal("""k:{"name":"web"}""", element.Key);
        Assert.Equal(["f:name", "f:image", "f:args"], element.Value!.AsObject().Select(f => f.Key));
    }

    [Fact]
    public void Fields_dropped_from_the_managers_configuration_are_removed_and_others_kept()
    {
        var first = ServerSideApply.Apply(null,
            Parse("""{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"name":"a","port":80},{"name":"b","port":81}],"sessionAffinity":"ClientIP"}}"""),
            "kubectl", Now);
        // Another writer adds a field the applier never set.
        first["spec"]!["clusterIP"] = "10.96.0.9";

        var second = ServerSideApply.Apply(first,
            Parse("""{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"name":"a","port":80}]}}"""), "kubectl", Now);

        Assert.Equal("a", string.Join(",", second["spec"]!["ports"]!.AsArray().Select(p => p!["name"]!.ToString())));
        Assert.Null(second["spec"]!["sessionAffinity"]);
        Assert.Equal("10.96.0.9", second["spec"]!["clusterIP"]!.ToString());
        var managed = Assert.Single(second["metadata"]!["managedFields"]!.AsArray());
        Assert.Equal(("kubectl", "Apply"), (managed!["manager"]!.ToString(), managed["operation"]!.ToString()));
    }

    [Fact]
    public void One_manager_does_not_remove_what_another_applied()
    {
        var obj = ServerSideApply.Apply(null, Parse("""{"metadata":{"name":"c","labels":{"a":"1"}}}"""), "one", Now);
        obj = ServerSideApply.Apply(obj, Parse("""{"metadata":{"name":"c","labels":{"b":"2"}}}"""), "two", Now);
        obj = ServerSideApply.Apply(obj, Parse("""{"metadata":{"name":"c"}}"""), "two", Now);
        Assert.Equal("""{"a":"1"}""", obj["metadata"]!["labels"]!.ToJsonString());
        Assert.Equal(2, obj["metadata"]!["managedFields"]!.AsArray().Count);
    }

    [Fact]
    public void Yaml_bodies_are_read_like_json()
    {
        var (parsed, _) = ServerSideApply.ParseBody(Encoding.UTF8.GetBytes("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: \"1\"\n"));
        Assert.Equal("x", parsed["metadata"]!["name"]!.ToString());
        Assert.Equal("1", parsed["data"]!["k"]!.ToString());
    }

    [Fact]
    public void Applying_the_same_configuration_again_changes_nothing()
    {
        var config = Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1"}}""");
        var first = ServerSideApply.Apply(null, config, "kubectl", Now);
        var again = ServerSideApply.Apply(first, config, "kubectl", Now.AddMinutes(5));
        Assert.True(JsonNode.DeepEquals(first, again), again.ToJsonString());
    }
}
