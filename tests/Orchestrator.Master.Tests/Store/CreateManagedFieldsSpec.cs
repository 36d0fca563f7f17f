using System.Text.Json;
using k8s.Models;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>What a create's writer owns: the object as it sent it, with its defaults, as kube-apiserver's create handler
/// runs the field manager before the kind's PrepareForCreate and admission (kubectl test/cmd apply.sh: a client-side
/// apply upgraded to server-side apply owned the pod's status and priority, and its next apply dropped them).</summary>
public class CreateManagedFieldsSpec() : StoreSpecBase(new ObjectStoreSettings(SnapshotEvery: 1000, WatchWindow: 50))
{
    [Fact]
    public void A_created_pod_leaves_its_writer_the_sent_fields_and_defaults_but_not_the_status_or_the_priority_the_server_sets()
    {
        var stored = (V1Pod)Stored(new CreateObject("pods", Objects.Pod("web"), Manager: new FieldManager("kubectl-client-side-apply")));

        Assert.Equal("Pending", stored.Status?.Phase);
        Assert.NotNull(stored.Spec.Priority);
        var fields = JsonSerializer.SerializeToElement(Assert.Single(stored.Metadata.ManagedFields).FieldsV1);
        Assert.False(fields.TryGetProperty("f:status", out _), fields.ToString());
        var spec = fields.GetProperty("f:spec");
        Assert.True(spec.TryGetProperty("f:containers", out _), spec.ToString());
        Assert.True(spec.TryGetProperty("f:dnsPolicy", out _), spec.ToString()); // a default: owned, as kube decodes it
        Assert.False(spec.TryGetProperty("f:priority", out _), spec.ToString());
        Assert.False(spec.TryGetProperty("f:preemptionPolicy", out _), spec.ToString());
    }

    [Fact]
    public void A_status_a_client_sends_on_create_is_owned_by_no_one_where_status_is_a_subresource()
    {
        var pod = Objects.Pod("sent-status");
        pod.Status = new V1PodStatus { Phase = "Running", Message = "as sent" };

        var stored = (V1Pod)Stored(new CreateObject("pods", pod, Manager: new FieldManager("kubectl-create")));

        var fields = JsonSerializer.SerializeToElement(Assert.Single(stored.Metadata.ManagedFields).FieldsV1);
        Assert.False(fields.TryGetProperty("f:status", out _), fields.ToString());
        Assert.True(fields.TryGetProperty("f:spec", out _), fields.ToString());
    }
}
