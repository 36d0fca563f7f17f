using k8s.Models;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Filters;

/// <summary>
/// The pod's CPU and memory requests must fit in what the node has left of its allocatable, and the node must
/// have room for one more pod (Kubernetes' NodeResourcesFit plugin, with its reasons "Insufficient cpu",
/// "Insufficient memory", "Too many pods"). A node that reports no allocatable CPU or memory is not limited on it.
/// </summary>
internal sealed class NodeResourcesFitFilter : IClusterWideFilter
{
    public string Name => "NodeResourcesFit";

    public string? Filter(V1Pod pod, NodeInfo node) => Fit(PodResources.Requests(pod), node);

    /// <summary>The pod's requests are summed once for all the nodes of a decision.</summary>
    public ISchedulingFilter Prepare(V1Pod pod, IReadOnlyList<NodeInfo> nodes)
    {
        var wanted = PodResources.Requests(pod);
        return new PreparedFilter(Name, node => Fit(wanted, node));
    }

    private static string? Fit(Resources wanted, NodeInfo node)
    {
        if (node.Pods.Count + 1 > node.MaxPods) return "Too many pods";
        if (wanted is { MilliCpu: 0, Memory: 0 }) return null;
        var allocatable = node.Allocatable;
        var used = node.Requested;
        if (wanted.MilliCpu > 0 && allocatable.MilliCpu > 0 && used.MilliCpu + wanted.MilliCpu > allocatable.MilliCpu)
            return "Insufficient cpu";
        if (wanted.Memory > 0 && allocatable.Memory > 0 && used.Memory + wanted.Memory > allocatable.Memory)
            return "Insufficient memory";
        return null;
    }
}
