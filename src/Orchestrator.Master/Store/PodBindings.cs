using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

/// <summary>
/// A pod's /binding, as kube-apiserver's BindingREST (pkg/registry/core/pod/storage, setPodNodeAndMetadata): a
/// conditional update of the stored pod that refuses a pod being deleted, already assigned or scheduling-gated, and
/// otherwise sets spec.nodeName, merges the binding's annotations and sets PodScheduled=True. It is no update of the
/// pod through its strategy: Kubernetes writes it with GuaranteedUpdate, so the pod's update validation does not run
/// and its managed fields are left as they are (no field manager sees the pod; a bound pod has no entry for
/// spec.nodeName nor for the PodScheduled condition).
/// </summary>
internal static class PodBindings
{
    public const string Subresource = "binding";

    /// <summary>Why the stored pod cannot be bound (a 409 on pods/binding, as assignPod answers), or null.</summary>
    public static StoreError? Refusal(V1Pod stored)
    {
        var name = stored.Metadata.Name;
        if (stored.Metadata.DeletionTimestamp is not null) return Conflict(name, $"pod {name} is being deleted, cannot be assigned to a host");
        if (stored.Spec?.NodeName is { Length: > 0 } node) return Conflict(name, $"pod {name} is already assigned to node \"{node}\"");
        if (stored.Spec?.SchedulingGates is { Count: > 0 }) return Conflict(name, $"pod {name} has non-empty .spec.schedulingGates");
        return null;
    }

    /// <summary>kube-apiserver answers every refused binding as a conflict on pods/binding.</summary>
    public static StoreError Conflict(string name, string reason) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on pods/binding \"{name}\": {reason}");

    /// <summary>The bound pod: a new pod object whose metadata, spec and status (and the conditions list and annotations
    /// it changes) are its own, sharing the rest with <paramref name="stored"/>. Stored objects are never modified,
    /// so the bound pod needs no deep copy (which would cost a serialization and a parse of the whole pod).</summary>
    public static V1Pod Bind(V1Pod stored, string node, IDictionary<string, string>? annotations, DateTime now)
    {
        var pod = Shallow(stored);
        pod.Metadata = Shallow(stored.Metadata);
        pod.Spec = stored.Spec is null ? new V1PodSpec() : Shallow(stored.Spec);
        pod.Spec.NodeName = node;
        if (annotations is { Count: > 0 })
        {
            pod.Metadata.Annotations = stored.Metadata.Annotations is { } kept
                ? new Dictionary<string, string>(kept)
                : new Dictionary<string, string>();
            foreach (var (key, value) in annotations) pod.Metadata.Annotations[key] = value;
        }
        pod.Status = stored.Status is null ? new V1PodStatus() : Shallow(stored.Status);
        pod.Status.Conditions = Scheduled(stored.Status?.Conditions, now);
        return pod;
    }

    /// <summary>podutil.UpdatePodCondition with PodScheduled=True: an existing PodScheduled condition is replaced where
    /// it is (keeping its lastTransitionTime when it was True already), else the condition is appended.</summary>
    private static List<V1PodCondition> Scheduled(IList<V1PodCondition>? conditions, DateTime now)
    {
        var list = conditions is null ? new List<V1PodCondition>(1) : new List<V1PodCondition>(conditions);
        var index = list.FindIndex(c => c.Type == "PodScheduled");
        var condition = new V1PodCondition
        {
            Type = "PodScheduled", Status = "True",
            LastTransitionTime = index >= 0 && list[index].Status == "True"
                ? list[index].LastTransitionTime
                : now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond)),
        };
        if (index >= 0) list[index] = condition;
        else list.Add(condition);
        return list;
    }

    private static T Shallow<T>(T obj) where T : class => ShallowCopy.Of(obj);
}
