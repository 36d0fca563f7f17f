using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>
/// A /status update is planned on a shallow copy of the stored object (its own metadata and managed fields entries, the
/// rest shared) when the kind's strategy replaces only the status, and compared and diffed on the two statuses alone:
/// the results (managed fields, no-change detection, resourceVersions) must be those of a deep copy compared whole, and
/// no object stored earlier may change.
/// </summary>
public class StatusUpdateSpec() : StoreSpecBase(new ObjectStoreSettings(SnapshotEvery: 1000, WatchWindow: 50))
{
    private static V1Pod StatusWrite(string name, string phase, params (string Type, string Status)[] conditions) => new()
    {
        ApiVersion = "v1", Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Status = new V1PodStatus
        {
            Phase = phase,
            Conditions = conditions.Select(c => new V1PodCondition { Type = c.Type, Status = c.Status }).ToList(),
        },
    };

    private static UpdateObject Status(V1Pod pod, string manager, bool handedOver = false) =>
        new("pods", pod, "status", Manager: new FieldManager(manager, Subresource: "status")) { HandedOver = handedOver };

    private static string Fields(IKubernetesObject<V1ObjectMeta> obj, string manager) =>
        KubeObjects.Serialize(obj.Metadata.ManagedFields!.Single(e => e.Manager == manager).FieldsV1);

    [Fact]
    public void Status_writes_record_managed_fields_as_before_and_never_change_an_earlier_stored_pod()
    {
        var pod = Objects.Pod("p");
        pod.Metadata.Labels = new Dictionary<string, string> { ["app"] = "web" };
        var created = Stored(new CreateObject("pods", pod, Manager: new FieldManager("creator")));
        var createdJson = KubeObjects.Serialize(created);

        // the kubelet's first report: it comes to own the status fields it set, in an entry of its own for /status
        var running = Stored(Status(StatusWrite("p", "Running", ("Ready", "True")), "kubelet", handedOver: true));
        Assert.True(Rv(running) > Rv(created));
        var kubelet = running.Metadata.ManagedFields!.Single(e => e.Manager == "kubelet");
        Assert.Equal(("Update", "status", "v1"), (kubelet.Operation, kubelet.Subresource, kubelet.ApiVersion));
        Assert.Equal("""{"f:status":{"f:conditions":{"k:{\u0022type\u0022:\u0022Ready\u0022}":{".":{},"f:status":{},"f:type":{}}},"f:phase":{}}}""",
            Fields(running, "kubelet"));
        // the creator owns none of the status (the Pending status the create set is the server's, a reset field, as in
        // kube-apiserver): its entry is as it was
        Assert.DoesNotContain("f:status", Fields(created, "creator"));
        Assert.Equal(Fields(created, "creator"), Fields(running, "creator"));
        Assert.Equal(KubeObjects.Serialize(((V1Pod)created).Spec), KubeObjects.Serialize(((V1Pod)running).Spec));
        Assert.Equal(createdJson, KubeObjects.Serialize(created));
        var runningJson = KubeObjects.Serialize(running);

        // the same report again changes nothing: no write, the stored pod and its resourceVersion as they were
        var again = Stored(Status(StatusWrite("p", "Running", ("Ready", "True")), "kubelet"));
        Assert.Equal(running.Metadata.ResourceVersion, again.Metadata.ResourceVersion);
        Assert.Equal(runningJson, KubeObjects.Serialize(again));

        // another writer takes the phase: the kubelet's entry loses it (an entry changed in place on the new pod's copy),
        // the pod stored before keeps its entry as it was
        var taken = Stored(Status(StatusWrite("p", "Failed", ("Ready", "True")), "other"));
        Assert.True(Rv(taken) > Rv(running));
        Assert.Equal("""{"f:status":{"f:conditions":{"k:{\u0022type\u0022:\u0022Ready\u0022}":{".":{},"f:status":{},"f:type":{}}}}}""",
            Fields(taken, "kubelet"));
        Assert.Equal("""{"f:status":{"f:phase":{}}}""", Fields(taken, "other"));
        Assert.Equal(runningJson, KubeObjects.Serialize(running));
        Assert.Equal(createdJson, KubeObjects.Serialize(created));

        // back to the earlier status: a change again (judged against the stored pod of now, not an earlier one's JSON)
        var back = Stored(Status(StatusWrite("p", "Running", ("Ready", "True")), "kubelet"));
        Assert.True(Rv(back) > Rv(taken));
        Assert.Equal("Running", ((V1Pod)back).Status.Phase);
        Assert.Equal("""{"f:status":{"f:phase":{}}}""", Fields(taken, "other"));
        Assert.DoesNotContain(back.Metadata.ManagedFields!, e => e.Manager == "other");
        Assert.Equal(runningJson, KubeObjects.Serialize(running));
    }

    [Fact]
    public void A_status_write_owns_only_status_fields_when_the_spec_repeats_a_list_key()
    {
        // env names may repeat (the API server warns, stores it): the spec is the same before and after a /status write,
        // so the writer takes nothing of it, as kube-apiserver's field manager (no change outside status) records it
        var pod = Objects.Pod("dup");
        pod.Spec.Containers[0].Env = [new V1EnvVar { Name = "A", Value = "1" }, new V1EnvVar { Name = "A", Value = "2" }];
        var created = Stored(new CreateObject("pods", pod, Manager: new FieldManager("creator")));
        var running = Stored(Status(StatusWrite("dup", "Running", ("Ready", "True")), "kubelet", handedOver: true));
        Assert.Equal("""{"f:status":{"f:conditions":{"k:{\u0022type\u0022:\u0022Ready\u0022}":{".":{},"f:status":{},"f:type":{}}},"f:phase":{}}}""",
            Fields(running, "kubelet"));
        Assert.Equal(KubeObjects.Serialize(((V1Pod)created).Spec), KubeObjects.Serialize(((V1Pod)running).Spec));
        // no status at all before: every status field is the writer's
        var node = Stored(new CreateObject("nodes", new V1Node { ApiVersion = "v1", Kind = "Node", Metadata = new V1ObjectMeta { Name = "bare" } },
            Manager: new FieldManager("creator")));
        Assert.Null(((V1Node)node).Status);
        var reported = Stored(new UpdateObject("nodes", new V1Node
        {
            ApiVersion = "v1", Kind = "Node", Metadata = new V1ObjectMeta { Name = "bare" },
            Status = new V1NodeStatus { Phase = "Running" },
        }, "status", Manager: new FieldManager("node", Subresource: "status")));
        Assert.Equal("""{"f:status":{"f:phase":{}}}""", Fields(reported, "node"));
        Assert.True(Rv(reported) > Rv(node));
    }

    [Fact]
    public void A_status_write_keeps_the_stored_metadata_and_spec_and_the_stored_object_unchanged_for_a_node()
    {
        var node = new V1Node
        {
            ApiVersion = "v1", Kind = "Node",
            Metadata = new V1ObjectMeta { Name = "n1", Labels = new Dictionary<string, string> { ["zone"] = "a" } },
            Spec = new V1NodeSpec { Taints = [new V1Taint { Key = "k", Effect = "NoSchedule" }] },
        };
        var created = Stored(new CreateObject("nodes", node, Manager: new FieldManager("creator")));
        var createdJson = KubeObjects.Serialize(created);
        var write = new V1Node
        {
            ApiVersion = "v1", Kind = "Node",
            // a status write's other fields are not taken: the stored labels, spec and managed fields stay
            Metadata = new V1ObjectMeta { Name = "n1", Labels = new Dictionary<string, string> { ["zone"] = "b" } },
            Spec = new V1NodeSpec { Unschedulable = true },
            Status = new V1NodeStatus { Conditions = [new V1NodeCondition { Type = "Ready", Status = "True" }] },
        };
        var updated = (V1Node)Stored(new UpdateObject("nodes", write, "status", Manager: new FieldManager("node", Subresource: "status")));
        Assert.Equal("a", updated.Metadata.Labels["zone"]);
        Assert.Null(updated.Spec.Unschedulable);
        Assert.Equal("True", updated.Status.Conditions.Single().Status);
        Assert.Equal(createdJson, KubeObjects.Serialize(created));
        // the request's object is untouched too (it was not handed over)
        Assert.Equal("b", write.Metadata.Labels["zone"]);
        Assert.Null(write.Metadata.ResourceVersion);
    }

    [Fact]
    public void Only_strategies_whose_status_update_replaces_the_status_alone_take_the_shallow_path()
    {
        IResourceStrategy Strategy(string resource) => Catalog.Find(resource)!.Strategy;
        Assert.True(Strategy("pods").StatusUpdateReplacesOnlyStatus);
        Assert.True(Strategy("nodes").StatusUpdateReplacesOnlyStatus);
        Assert.True(Strategy("replicasets").StatusUpdateReplacesOnlyStatus);
        // a Deployment keeps parts of the old status (its own PrepareForStatusUpdate); a CSR's status is validated
        Assert.False(Strategy("deployments").StatusUpdateReplacesOnlyStatus);
        Assert.False(Strategy("certificatesigningrequests").StatusUpdateReplacesOnlyStatus);
        // kinds without a status
        Assert.False(Strategy("configmaps").StatusUpdateReplacesOnlyStatus);
    }
}
