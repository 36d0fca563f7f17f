using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>metadata.managedFields of Update operations, as kube-apiserver's field manager records them.</summary>
public sealed class ManagedFieldsTests
{
    private static readonly DateTime Now = new(2026, 12, 2, 10, 0, 0, DateTimeKind.Utc);

    private static V1Deployment Created(string manager)
    {
        var deployment = Objects.Deployment("web");
        ManagedFields.RecordUpdate(deployment, null, manager, null, Now);
        return deployment;
    }

    private static JsonObject Fields(V1ManagedFieldsEntry entry) =>
        (JsonObject)JsonNode.Parse(KubernetesJson.Serialize(entry.FieldsV1))!;

    private static V1Deployment Changed(V1Deployment old, Action<V1Deployment> change)
    {
        var next = KubeObjects.Clone(old);
        change(next);
        return next;
    }

    [Fact]
    public void A_create_gives_its_manager_every_field_it_set_with_dots_for_maps_and_list_elements()
    {
        var entry = Assert.Single(Created("kubectl-create").Metadata.ManagedFields);

        Assert.Equal(("kubectl-create", "Update", "apps/v1", "FieldsV1", Now), (entry.Manager, entry.Operation, entry.ApiVersion, entry.FieldsType, entry.Time));
        Assert.Null(entry.Subresource);
        var fields = Fields(entry);
        Assert.Null(fields["f:metadata"]); // name and namespace are identity, not owned
        var template = fields["f:spec"]!["f:template"]!;
        Assert.Null(fields["f:spec"]!["."]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{".":{},"f:app":{}}"""), template["f:metadata"]!["f:labels"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{".":{},"f:image":{},"f:name":{}}"""),
            template["f:spec"]!["f:containers"]!["""k:{"name":"web"}"""]));
        Assert.NotNull(fields["f:spec"]!["f:replicas"]);
    }

    [Fact]
    public void An_update_takes_the_fields_it_changes_from_their_owner()
    {
        var created = Created("kubectl-create");
        var edited = Changed(created, d => d.Spec.Template.Spec.Containers[0].Image = "nginx:1.28");

        ManagedFields.RecordUpdate(edited, created, "kubectl-edit", null, Now.AddMinutes(1));

        var byManager = edited.Metadata.ManagedFields.ToDictionary(e => e.Manager);
        Assert.Equal(2, byManager.Count);
        var editor = Fields(byManager["kubectl-edit"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{"f:image":{}}}}}}}"""), editor));
        var creator = Fields(byManager["kubectl-create"]);
        var container = creator["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["""k:{"name":"web"}"""]!.AsObject();
        Assert.False(container.ContainsKey("f:image"));
        Assert.True(container.ContainsKey("f:name"));
        Assert.Equal(Now, byManager["kubectl-create"].Time);
    }

    [Fact]
    public void Removed_fields_leave_every_manager_and_an_empty_manager_is_dropped()
    {
        var created = Created("kubectl-create");
        var labelled = Changed(created, d => d.Metadata.Labels = new Dictionary<string, string> { ["tier"] = "web" });
        ManagedFields.RecordUpdate(labelled, created, "kubectl-label", null, Now);
        Assert.Equal(2, labelled.Metadata.ManagedFields.Count);

        var unlabelled = Changed(labelled, d => d.Metadata.Labels = null);
        ManagedFields.RecordUpdate(unlabelled, labelled, "kubectl-create", null, Now);

        Assert.Equal("kubectl-create", Assert.Single(unlabelled.Metadata.ManagedFields).Manager);
    }

    [Fact]
    public void A_status_write_is_recorded_for_the_status_subresource_and_an_unchanged_object_records_nothing()
    {
        var created = Created("kubectl-create");
        var reported = Changed(created, d => d.Status = new V1DeploymentStatus { Replicas = 1 });
        ManagedFields.RecordUpdate(reported, created, "kube-controller-manager", "status", Now);

        var status = Assert.Single(reported.Metadata.ManagedFields, e => e.Manager == "kube-controller-manager");
        Assert.Equal("status", status.Subresource);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"f:status":{"f:replicas":{}}}"""), Fields(status)));

        var again = KubeObjects.Clone(reported);
        ManagedFields.RecordUpdate(again, reported, "someone-else", null, Now.AddHours(1));
        Assert.True(KubeObjects.SameJson(reported.Metadata.ManagedFields, again.Metadata.ManagedFields));
    }

    [Fact]
    public void An_update_without_managed_fields_keeps_the_stored_ones_and_a_single_empty_entry_clears_them()
    {
        var stored = Created("kubectl-create");
        var sentNone = Changed(stored, d => d.Metadata.ManagedFields = null);
        ManagedFields.TakeBaseline(sentNone, stored);
        Assert.True(KubeObjects.SameJson(stored.Metadata.ManagedFields, sentNone.Metadata.ManagedFields));

        var cleared = Changed(stored, d => d.Metadata.ManagedFields = [new V1ManagedFieldsEntry()]);
        ManagedFields.TakeBaseline(cleared, stored);
        Assert.Null(cleared.Metadata.ManagedFields);
    }
}
