using k8s.Models;

namespace Orchestrator.Master.Quota;

/// <summary>A pod's effective requests and limits (Kubernetes' resourcehelper.PodRequests/PodLimits): the sum over its
/// containers and restartable (sidecar) init containers, at least the largest need of any regular init container
/// (with the sidecars started before it), plus the pod's overhead.</summary>
internal static class PodRequests
{
    public static Dictionary<string, ResourceQuantity> Requests(V1Pod pod)
    {
        var result = Aggregate(pod, c => c.Resources?.Requests);
        foreach (var (name, value) in pod.Spec?.Overhead ?? new Dictionary<string, ResourceQuantity>())
            result[name] = result.TryGetValue(name, out var existing) ? ResourceLists.Plus(existing, value) : value;
        return result;
    }

    public static Dictionary<string, ResourceQuantity> Limits(V1Pod pod)
    {
        var result = Aggregate(pod, c => c.Resources?.Limits);
        // Overhead adds only to limits the pod sets (a pod without a cpu limit stays unlimited).
        foreach (var (name, value) in pod.Spec?.Overhead ?? new Dictionary<string, ResourceQuantity>())
            if (result.TryGetValue(name, out var existing)) result[name] = ResourceLists.Plus(existing, value);
        return result;
    }

    private static Dictionary<string, ResourceQuantity> Aggregate(V1Pod pod, Func<V1Container, IDictionary<string, ResourceQuantity>?> of)
    {
        var total = new Dictionary<string, ResourceQuantity>();
        foreach (var container in pod.Spec?.Containers ?? []) total = ResourceLists.Add(total, of(container));
        var sidecars = new Dictionary<string, ResourceQuantity>();
        var init = new Dictionary<string, ResourceQuantity>();
        foreach (var container in pod.Spec?.InitContainers ?? [])
        {
            IDictionary<string, ResourceQuantity>? need;
            if (container.RestartPolicy == "Always")
            {
                total = ResourceLists.Add(total, of(container));
                sidecars = ResourceLists.Add(sidecars, of(container));
                need = sidecars;
            }
            else need = ResourceLists.Add(ResourceLists.Add(null, of(container)), sidecars);
            init = ResourceLists.Max(init, need);
        }
        return ResourceLists.Max(total, init);
    }

    /// <summary>Kubernetes' BestEffort QoS class: no container asks for or limits cpu or memory.</summary>
    public static bool IsBestEffort(V1Pod pod) =>
        (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []).All(c =>
            !HasComputeResource(c.Resources?.Requests) && !HasComputeResource(c.Resources?.Limits));

    private static bool HasComputeResource(IDictionary<string, ResourceQuantity>? list) =>
        list is not null && list.Any(kv => kv.Key is "cpu" or "memory" && kv.Value.ToDecimal() != 0);
}
