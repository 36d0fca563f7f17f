using k8s.Models;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Scoring;

/// <summary>Prefers the node running the fewest pods: breaks the ties LeastAllocated leaves once nodes are full
/// of pods without requests (its non-zero defaults reach 0 on every node).</summary>
internal sealed class FewestPodsScorer : ISchedulingScorer
{
    public string Name => "FewestPods";

    public IReadOnlyList<int> Score(V1Pod pod, IReadOnlyList<NodeInfo> feasible)
    {
        var most = feasible.Max(n => n.Pods.Count);
        return feasible.Select(n => most == 0 ? 100 : 100 - n.Pods.Count * 100 / (most + 1)).ToList();
    }
}
