using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Patching;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

public class PatchingTests
{
    private static JsonNode Json(string text) => JsonNode.Parse(text.Replace('\'', '"'))!;

    private static JsonNode Apply(string current, string patch, string mediaType) =>
        PatchApplier.Apply(Json(current), Encoding.UTF8.GetBytes(patch.Replace('\'', '"')), mediaType);

    [Fact]
    public void Merge_patch_merges_objects_replaces_lists_and_null_removes()
    {
        var result = Apply("{'spec':{'replicas':1,'paused':true,'list':[1,2]}}", "{'spec':{'replicas':3,'paused':null,'list':[3]}}",
            PatchApplier.MergePatch);
        Assert.True(JsonNode.DeepEquals(Json("{'spec':{'replicas':3,'list':[3]}}"), result));
    }

    [Fact]
    public void Json_patch_applies_operations_in_order()
    {
        var result = Apply("{'spec':{'replicas':1,'items':['a','b']}}",
            "[{'op':'replace','path':'/spec/replicas','value':5},{'op':'add','path':'/spec/items/-','value':'c'},{'op':'remove','path':'/spec/items/0'},{'op':'test','path':'/spec/replicas','value':5}]",
            PatchApplier.JsonPatchType);
        Assert.True(JsonNode.DeepEquals(Json("{'spec':{'replicas':5,'items':['b','c']}}"), result));
    }

    [Fact]
    public void Json_patch_on_a_missing_path_is_refused()
    {
        var e = Assert.Throws<ApiException>(() => Apply("{}", "[{'op':'replace','path':'/spec/x','value':1}]", PatchApplier.JsonPatchType));
        Assert.Equal(422, e.Code);
    }

    [Fact]
    public void Json_patch_replace_sets_a_member_absent_from_an_existing_object_but_not_an_absent_array_element()
    {
        var result = Apply("{'spec':{'podCIDR':'10.0.0.0/24','taints':[{'key':'a'}]}}",
            "[{'op':'replace','path':'/spec/unschedulable','value':true},{'op':'replace','path':'/spec/taints/0','value':{'key':'b'}}]",
            PatchApplier.JsonPatchType);
        Assert.True(JsonNode.DeepEquals(Json("{'spec':{'podCIDR':'10.0.0.0/24','taints':[{'key':'b'}],'unschedulable':true}}"), result));

        var e = Assert.Throws<ApiException>(() => Apply("{'spec':{'taints':[]}}",
            "[{'op':'replace','path':'/spec/taints/0','value':{'key':'b'}}]", PatchApplier.JsonPatchType));
        Assert.Equal(422, e.Code);
        Assert.Equal(422, Assert.Throws<ApiException>(() => Apply("{'spec':{}}",
            "[{'op':'remove','path':'/spec/unschedulable'}]", PatchApplier.JsonPatchType)).Code);
    }

    [Fact]
    public void Json_patch_takes_a_null_value_but_not_an_absent_one()
    {
        // kube's json-patch sets the member to null (a ConfigMap's data, a pod's spec, which validation then refuses)
        var result = Apply("{'data':{'a':'1'},'items':[1,2]}",
            "[{'op':'replace','path':'/data','value':null},{'op':'add','path':'/items/0','value':null},{'op':'add','path':'/extra','value':null}]",
            PatchApplier.JsonPatchType);
        Assert.True(JsonNode.DeepEquals(Json("{'data':null,'items':[null,1,2],'extra':null}"), result));

        var e = Assert.Throws<ApiException>(() => Apply("{'data':{}}", "[{'op':'add','path':'/data/a'}]", PatchApplier.JsonPatchType));
        Assert.Equal((422, "the server rejected our request due to an error in our request: \"add\" operation missing \"value\""), (e.Code, e.Message));
        Assert.Equal(422, Assert.Throws<ApiException>(() => Apply("{'data':{}}", "[{'op':'replace','path':'','value':null}]",
            PatchApplier.JsonPatchType)).Code);
    }

    [Fact]
    public void Strategic_merge_merges_containers_by_name_and_keeps_others()
    {
        var current = "{'spec':{'template':{'spec':{'containers':[{'name':'a','image':'x:1','ports':[{'containerPort':80}]},{'name':'b','image':'y:1'}]}}}}";
        var result = Apply(current, "{'spec':{'template':{'spec':{'containers':[{'name':'b','image':'y:2'},{'name':'c','image':'z:1'}]}}}}",
            PatchApplier.StrategicMergePatchType);
        var containers = result["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(["a:x:1", "b:y:2", "c:z:1"], containers.Select(c => $"{c!["name"]}:{c["image"]}"));
        Assert.Equal(80, containers[0]!["ports"]![0]!["containerPort"]!.GetValue<int>());
    }

    [Fact]
    public void Strategic_merge_deletes_list_elements_with_the_patch_directive()
    {
        var result = Apply("{'spec':{'containers':[{'name':'a','env':[{'name':'X','value':'1'},{'name':'Y','value':'2'}]}]}}",
            "{'spec':{'containers':[{'name':'a','env':[{'name':'X','$patch':'delete'},{'name':'Y','value':'3'}]}]}}",
            PatchApplier.StrategicMergePatchType);
        Assert.True(JsonNode.DeepEquals(Json("[{'name':'Y','value':'3'}]"), result["spec"]!["containers"]![0]!["env"]));
    }

    [Fact]
    public void Strategic_merge_merges_service_ports_by_port()
    {
        var result = Apply("{'spec':{'ports':[{'port':80,'targetPort':8080},{'port':443}]}}",
            "{'spec':{'ports':[{'port':80,'nodePort':30080}]}}", PatchApplier.StrategicMergePatchType);
        Assert.True(JsonNode.DeepEquals(Json("[{'port':80,'targetPort':8080,'nodePort':30080},{'port':443}]"), result["spec"]!["ports"]));
    }

    [Fact]
    public void Strategic_merge_replaces_lists_without_a_merge_key()
    {
        var result = Apply("{'spec':{'externalIPs':['1.1.1.1','2.2.2.2']}}", "{'spec':{'externalIPs':['3.3.3.3']}}",
            PatchApplier.StrategicMergePatchType);
        Assert.True(JsonNode.DeepEquals(Json("['3.3.3.3']"), result["spec"]!["externalIPs"]));
    }

    [Fact]
    public void Malformed_patch_is_a_bad_request()
    {
        var e = Assert.Throws<ApiException>(() => Apply("{}", "{'spec':", PatchApplier.MergePatch));
        Assert.Equal(400, e.Code);
    }

    [Fact]
    public void Unknown_patch_type_is_unsupported_media_type()
    {
        var e = Assert.Throws<ApiException>(() => Apply("{}", "{}", "text/plain"));
        Assert.Equal(415, e.Code);
    }
}
