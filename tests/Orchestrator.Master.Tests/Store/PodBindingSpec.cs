using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>A pod's /binding in the store, as Kubernetes' BindingREST: a conditional update that sets spec.nodeName, the
/// binding's annotations and PodScheduled=True, refuses a deleted, bound or gated pod with a 409 on pods/binding, and is
/// no update of the pod through its strategy (no managed fields recorded, no pod update validation).</summary>
public class PodBindingSpec() : StoreSpecBase(new ObjectStoreSettings(SnapshotEvery: 1000, WatchWindow: 50))
{
    private V1Pod Get(string name) => (V1Pod)Stored(new GetObject(new ResourceKey("pods", "default", name)));

    private static V1Pod Binding(string pod, string node, IDictionary<string, string>? annotations = null) => new()
    {
        ApiVersion = "v1", Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = pod, NamespaceProperty = "default", Annotations = annotations },
        Spec = new V1PodSpec { NodeName = node },
    };

    [Fact]
    public void A_binding_sets_the_node_the_annotations_and_PodScheduled_and_leaves_the_managed_fields_and_the_stored_pod_alone()
    {
        var pod = Objects.Pod("p");
        pod.Metadata.Annotations = new Dictionary<string, string> { ["kept"] = "1" };
        var created = (V1Pod)Stored(new CreateObject("pods", pod, Manager: new FieldManager("creator")));
        var unschedulable = (V1Pod)KubeObjects.Clone(created);
        unschedulable.Status.Conditions = [
            new V1PodCondition { Type = "Ready", Status = "False" },
            new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = "no nodes" },
        ];
        var before = (V1Pod)Stored(new UpdateObject("pods", unschedulable, "status", Manager: new FieldManager("status-writer", Subresource: "status")));
        var beforeJson = KubeObjects.Serialize(before);

        var bound = (V1Pod)Stored(new UpdateObject("pods", Binding("p", "node-1", new Dictionary<string, string> { ["added"] = "2" }), "binding",
            Manager: new FieldManager("kube-scheduler", Subresource: "binding")));

        Assert.Equal("node-1", bound.Spec.NodeName);
        Assert.Equal(new Dictionary<string, string> { ["kept"] = "1", ["added"] = "2" }, bound.Metadata.Annotations);
        // podutil.UpdatePodCondition: the PodScheduled condition replaced where it was, without the old reason
        Assert.Equal(["Ready", "PodScheduled"], bound.Status.Conditions.Select(c => c.Type));
        var scheduled = bound.Status.Conditions[1];
        Assert.Equal(("True", null, null), (scheduled.Status, scheduled.Reason, scheduled.Message));
        Assert.NotNull(scheduled.LastTransitionTime);
        Assert.True(Rv(bound) > Rv(before));
        // GuaranteedUpdate: no field manager sees the pod
        Assert.Equal(KubeObjects.Serialize(before.Metadata.ManagedFields), KubeObjects.Serialize(bound.Metadata.ManagedFields));
        Assert.DoesNotContain(bound.Metadata.ManagedFields ?? [], e => e.Manager == "kube-scheduler");
        // the stored pod before the binding is unchanged (the bound pod shares only what neither changes)
        Assert.Equal(beforeJson, KubeObjects.Serialize(before));
        Assert.Equal(KubeObjects.Serialize(bound), KubeObjects.Serialize(Get("p")));
    }

    [Fact]
    public void A_pod_already_bound_being_deleted_or_gated_is_refused_with_a_conflict_on_pods_binding()
    {
        Stored(new CreateObject("pods", Objects.Pod("bound")));
        Stored(new UpdateObject("pods", Binding("bound", "node-1"), "binding"));
        var again = Failed(new UpdateObject("pods", Binding("bound", "node-2"), "binding"));
        Assert.Equal((409, "Conflict"), (again.Code, again.Reason));
        Assert.Equal("Operation cannot be fulfilled on pods/binding \"bound\": pod bound is already assigned to node \"node-1\"", again.Message);
        Assert.Equal("node-1", Get("bound").Spec.NodeName);

        var gated = Objects.Pod("gated");
        gated.Spec.SchedulingGates = [new V1PodSchedulingGate { Name = "wait" }];
        Stored(new CreateObject("pods", gated));
        var refused = Failed(new UpdateObject("pods", Binding("gated", "node-1"), "binding"));
        Assert.Equal((409, "Operation cannot be fulfilled on pods/binding \"gated\": pod gated has non-empty .spec.schedulingGates"),
            (refused.Code, refused.Message));

        var finalized = Objects.Pod("deleting");
        finalized.Metadata.Finalizers = ["example.com/hold"];
        Stored(new CreateObject("pods", finalized));
        Stored(new DeleteObject(new ResourceKey("pods", "default", "deleting"), GracePeriodSeconds: 0));
        var deleting = Failed(new UpdateObject("pods", Binding("deleting", "node-1"), "binding"));
        Assert.Equal((409, "Operation cannot be fulfilled on pods/binding \"deleting\": pod deleting is being deleted, cannot be assigned to a host"),
            (deleting.Code, deleting.Message));
        Assert.Null(Get("deleting").Spec.NodeName);
    }

    [Fact]
    public void A_binding_without_a_node_is_invalid_and_one_on_a_stale_resourceVersion_conflicts()
    {
        var created = Stored(new CreateObject("pods", Objects.Pod("p")));
        Assert.Equal(422, Failed(new UpdateObject("pods", Binding("p", ""), "binding")).Code);
        var stale = Binding("p", "node-1");
        stale.Metadata.ResourceVersion = (Rv(created) - 1).ToString();
        Assert.Equal(409, Failed(new UpdateObject("pods", stale, "binding")).Code);
        Assert.Null(Get("p").Spec.NodeName);
    }
}
