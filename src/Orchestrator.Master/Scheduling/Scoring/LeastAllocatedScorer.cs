using k8s.Models;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Scoring;

/// <summary>
/// Prefers the node with the most CPU and memory left after placing the pod (Kubernetes' NodeResourcesFit
/// LeastAllocated strategy): the mean over both of (allocatable - requested) / allocatable, counting pods
/// without requests at Kubernetes' non-zero defaults, so that with no requests anywhere it spreads by pod count.
/// A node that reports no allocatable counts as a 4-CPU, 8 GiB one.
/// </summary>
internal sealed class LeastAllocatedScorer : ISchedulingScorerInto
{
    private static readonly Resources Assumed = new(4000, 8L * 1024 * 1024 * 1024);

    public string Name => "LeastAllocated";

    public void Score(V1Pod pod, IReadOnlyList<NodeInfo> feasible, Span<int> scores)
    {
        var wanted = PodResources.Requests(pod, nonZero: true);
        for (var i = 0; i < scores.Length; i++) scores[i] = Score(wanted, feasible[i]);
    }

    private static int Score(Resources wanted, NodeInfo node)
    {
        var allocatable = node.Allocatable;
        if (allocatable.MilliCpu <= 0) allocatable = allocatable with { MilliCpu = Assumed.MilliCpu };
        if (allocatable.Memory <= 0) allocatable = allocatable with { Memory = Assumed.Memory };
        var requested = node.NonZeroRequested + wanted;
        return (Free(requested.MilliCpu, allocatable.MilliCpu) + Free(requested.Memory, allocatable.Memory)) / 2;
    }

    private static int Free(long requested, long allocatable) =>
        requested >= allocatable ? 0 : (int)((allocatable - requested) * 100 / allocatable);
}
