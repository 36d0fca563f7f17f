using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>The writer's own entry of an update (its earlier set, united with what it changed, less what it removed),
/// computed in place rather than through copies: the same set, in the same order.</summary>
public sealed class ManagedFieldsOwnSetTests
{
    private static readonly DateTime Now = new(2026, 12, 6, 7, 0, 0, DateTimeKind.Utc);

    private static JsonObject Set(string json) => (JsonObject)JsonNode.Parse(json)!;

    // both sides written by one writer: its escaping and the sets' order compared as they are
    private static string Fields(V1ManagedFieldsEntry entry) => Set(KubernetesJson.Serialize(entry.FieldsV1)).ToJsonString();

    private static string Text(string json) => Set(json).ToJsonString();

    [Fact]
    public void Union_into_gives_the_union_in_the_same_order_and_leaves_the_other_set_alone()
    {
        const string a = """{"f:metadata":{"f:labels":{"f:app":{}}},"f:status":{"f:phase":{},"f:conditions":{"k:{\"type\":\"Ready\"}":{".":{},"f:status":{}}}}}""";
        const string b = """{"f:status":{"f:podIP":{},"f:conditions":{"k:{\"type\":\"Ready\"}":{"f:reason":{}},"k:{\"type\":\"PodScheduled\"}":{".":{}}}},"f:spec":{"f:nodeName":{}}}""";
        var other = Set(b);

        var united = ManagedFields.UnionInto(Set(a), other);

        Assert.Equal(ManagedFields.Union(Set(a), Set(b)).ToJsonString(), united.ToJsonString());
        Assert.Equal(Text(b), other.ToJsonString());
        // nothing of the other set was moved into the result: changing one leaves the other
        united["f:spec"]!.AsObject()["f:nodeName"] = null;
        Assert.Equal(Text(b), other.ToJsonString());
    }

    [Fact]
    public void A_status_writer_writing_again_owns_what_it_owned_and_what_it_changed_less_what_it_removed()
    {
        var created = new V1Pod
        {
            ApiVersion = "v1", Kind = "Pod", Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default" },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "app:1" }] },
        };
        ManagedFields.RecordUpdate(created, null, "creator", null, Now);

        var running = KubeObjects.Clone(created);
        running.Status = new V1PodStatus
        {
            Phase = "Running", PodIP = "10.0.0.1", HostIP = "127.0.0.1",
            Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }],
        };
        ManagedFields.RecordUpdate(running, created, "kubelet", "status", Now);
        Assert.Equal(Text("""{"f:status":{"f:conditions":{"k:{\"type\":\"Ready\"}":{".":{},"f:status":{},"f:type":{}}},"f:hostIP":{},"f:phase":{},"f:podIP":{}}}"""),
            Fields(Assert.Single(running.Metadata.ManagedFields, e => e.Manager == "kubelet")));

        // the second write changes the phase, adds a condition and a message, and drops the pod IP
        var failed = KubeObjects.Clone(running);
        failed.Status.Phase = "Failed";
        failed.Status.PodIP = null;
        failed.Status.Message = "gone";
        failed.Status.Conditions.Add(new V1PodCondition { Type = "ContainersReady", Status = "False" });
        ManagedFields.RecordUpdate(failed, running, "kubelet", "status", Now.AddMinutes(1));

        var kubelet = Assert.Single(failed.Metadata.ManagedFields, e => e.Manager == "kubelet");
        Assert.Equal(
            Text("""{"f:status":{"f:conditions":{"k:{\"type\":\"Ready\"}":{".":{},"f:status":{},"f:type":{}},"k:{\"type\":\"ContainersReady\"}":{".":{},"f:status":{},"f:type":{}}},"f:hostIP":{},"f:phase":{},"f:message":{}}}"""),
            Fields(kubelet));
        Assert.Equal(Now.AddMinutes(1), kubelet.Time);
        // the creator's entry is untouched by status writes
        Assert.Equal(Fields(Assert.Single(created.Metadata.ManagedFields)), Fields(Assert.Single(failed.Metadata.ManagedFields, e => e.Manager == "creator")));
    }
}
