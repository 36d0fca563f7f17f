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

public sealed class ServerSideApplyConflictTests
{
    private static readonly DateTime Now = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    private static JsonObject Deployment(int replicas, string image = "nginx") => Parse("""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
         "spec":{"replicas":@replicas@,"template":{"spec":{"containers":[{"name":"web","image":"@image@"}]}}}}
        """.Replace("@replicas@", replicas.ToString()).Replace("@image@", image));

    /// <summary>A deployment as kubectl create leaves it: every field owned by an Update of "kubectl-create".</summary>
    private static JsonObject Created(int replicas, string image = "nginx")
    {
        var obj = Deployment(replicas, image);
        var fields = Orchestrator.Master.Store.ManagedFields.FieldSet(obj, null, null);
        fields.Remove("f:apiVersion");
        fields.Remove("f:kind");
        fields.Remove("f:metadata");
        obj["metadata"]!["managedFields"] = new JsonArray(new JsonObject
        {
            ["manager"] = "kubectl-create", ["operation"] = "Update", ["apiVersion"] = "apps/v1",
            ["time"] = "2026-01-01T00:00:00Z", ["fieldsType"] = "FieldsV1", ["fieldsV1"] = fields,
        });
        return obj;
    }

    private static IEnumerable<string> Managers(JsonObject obj) =>
        obj["metadata"]!["managedFields"]!.AsArray().Select(e => $"{e!["manager"]}/{e["operation"]}");

    [Fact]
    public void Changing_a_field_another_manager_owns_is_a_conflict_with_kubes_message()
    {
        var e = Assert.Throws<Orchestrator.Master.Api.Http.ApiException>(() =>
            ServerSideApply.Apply(Created(1), Deployment(3), "kubectl", Now));
        Assert.Equal((409, "Conflict"), (e.Code, e.Reason));
        Assert.Equal("""Apply failed with 1 conflict: conflict with "kubectl-create" using apps/v1: .spec.replicas""", e.Message);
        var cause = Assert.Single(e.Details!.Causes);
        Assert.Equal(("FieldManagerConflict", ".spec.replicas", """conflict with "kubectl-create" using apps/v1"""),
            (cause.Reason, cause.Field, cause.Message));
    }

    [Fact]
    public void Several_conflicts_are_listed_under_their_manager()
    {
        var e = Assert.Throws<Orchestrator.Master.Api.Http.ApiException>(() =>
            ServerSideApply.Apply(Created(1), Deployment(3, "redis"), "kubectl", Now));
        Assert.Equal("Apply failed with 2 conflicts: conflicts with \"kubectl-create\" using apps/v1:\n" +
                     "- .spec.replicas\n- .spec.template.spec.containers[name=\"web\"].image", e.Message);
    }

    [Fact]
    public void Applying_the_value_a_field_has_shares_its_ownership()
    {
        var result = ServerSideApply.Apply(Created(1), Deployment(1), "kubectl", Now);
        Assert.Equal(["kubectl-create/Update", "kubectl/Apply"], Managers(result));
        // Dropping it later from the applied configuration leaves it: the other owner still holds it.
        var dropped = ServerSideApply.Apply(result, Parse("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}}"""), "kubectl", Now);
        Assert.Equal(1, dropped["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal("nginx", dropped["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.ToString());
    }

    [Fact]
    public void A_forced_apply_takes_the_field_from_its_owner()
    {
        var result = ServerSideApply.Apply(Created(1), Deployment(3), "kubectl", Now, force: true);
        Assert.Equal(3, result["spec"]!["replicas"]!.GetValue<int>());
        var create = result["metadata"]!["managedFields"]!.AsArray().Single(e => e!["manager"]!.ToString() == "kubectl-create")!;
        Assert.Null(create["fieldsV1"]!["f:spec"]!["f:replicas"]);
        Assert.NotNull(create["fieldsV1"]!["f:spec"]!["f:template"]);
        // Now the applier owns it alone: a second change is no conflict.
        var again = ServerSideApply.Apply(result, Deployment(5), "kubectl", Now);
        Assert.Equal(5, again["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public void Another_appliers_field_conflicts_by_its_name_alone()
    {
        var first = ServerSideApply.Apply(null, Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1"}}"""), "one", Now);
        var e = Assert.Throws<Orchestrator.Master.Api.Http.ApiException>(() =>
            ServerSideApply.Apply(first, Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"2"}}"""), "two", Now));
        Assert.Equal("""Apply failed with 1 conflict: conflict with "one": .data.a""", e.Message);
    }

    [Fact]
    public void Member_paths_print_keys_as_structured_merge_diff_does()
    {
        var set = Parse("""{"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:name":{}}},"f:replicas":{}}}""");
        Assert.Equal([".spec.ports[port=80,protocol=\"TCP\"]", ".spec.ports[port=80,protocol=\"TCP\"].name", ".spec.replicas"],
            Orchestrator.Master.Store.ManagedFields.MemberPaths(set));
    }
}
