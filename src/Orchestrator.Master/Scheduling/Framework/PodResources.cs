using k8s.Models;

namespace Orchestrator.Master.Scheduling.Framework;

/// <summary>CPU (millicores) and memory (bytes) a pod asks for, or a node offers.</summary>
internal readonly record struct Resources(long MilliCpu, long Memory)
{
    public static Resources operator +(Resources a, Resources b) => new(a.MilliCpu + b.MilliCpu, a.Memory + b.Memory);
}

/// <summary>
/// Kubernetes' resource accounting for scheduling: a pod's request is the sum of its containers' requests, or the
/// largest init container's when that is more (init containers run one at a time); a request left out falls back
/// to the limit, as the API server defaults it. Scoring counts pods without requests as 100m CPU and 200Mi
/// (Kubernetes' non-zero defaults) so empty pods still spread. A node offers status.allocatable (else capacity).
/// </summary>
internal static class PodResources
{
    public const long DefaultMilliCpuRequest = 100;
    public const long DefaultMemoryRequest = 200L * 1024 * 1024;

    public static Resources Requests(V1Pod pod, bool nonZero = false)
    {
        var sum = new Resources(0, 0);
        foreach (var c in pod.Spec?.Containers ?? []) sum += Of(c, nonZero);
        foreach (var c in pod.Spec?.InitContainers ?? [])
        {
            var init = Of(c, nonZero);
            sum = new Resources(Math.Max(sum.MilliCpu, init.MilliCpu), Math.Max(sum.Memory, init.Memory));
        }
        return sum;
    }

    public static Resources Allocatable(V1Node node) =>
        new(MilliCpu(Quantity(node.Status?.Allocatable, "cpu") ?? Quantity(node.Status?.Capacity, "cpu")),
            Bytes(Quantity(node.Status?.Allocatable, "memory") ?? Quantity(node.Status?.Capacity, "memory")));

    /// <summary>The node's pod limit ("pods" in allocatable); Kubernetes' kubelet default 110 when not given.</summary>
    public static int MaxPods(V1Node node)
    {
        var q = Quantity(node.Status?.Allocatable, "pods") ?? Quantity(node.Status?.Capacity, "pods");
        return q is null ? 110 : (int)q.ToDecimal();
    }

    private static Resources Of(V1Container c, bool nonZero)
    {
        var cpu = Quantity(c.Resources?.Requests, "cpu") ?? Quantity(c.Resources?.Limits, "cpu");
        var memory = Quantity(c.Resources?.Requests, "memory") ?? Quantity(c.Resources?.Limits, "memory");
        return new Resources(
            cpu is null && nonZero ? DefaultMilliCpuRequest : MilliCpu(cpu),
            memory is null && nonZero ? DefaultMemoryRequest : Bytes(memory));
    }

    private static ResourceQuantity? Quantity(IDictionary<string, ResourceQuantity>? list, string name) =>
        list is not null && list.TryGetValue(name, out var q) ? q : null;

    private static long MilliCpu(ResourceQuantity? q) => q is null ? 0 : (long)Math.Ceiling(q.ToDecimal() * 1000);

    private static long Bytes(ResourceQuantity? q) => q is null ? 0 : (long)Math.Ceiling(q.ToDecimal());
}
