using k8s.Models;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Scoring;

/// <summary>Prefers the node running the fewest pods: breaks the ties LeastAllocated leaves once nodes are full
/// of pods without requests (its non-zero defaults reach 0 on every node).</summary>
internal sealed class FewestPodsScorer : ISchedulingScorerInto
{
    public string Name => "FewestPods";

    public void Score(V1Pod pod, IReadOnlyList<NodeInfo> feasible, Span<int> scores)
    {
        var most = 0;
        for (var i = 0; i < feasible.Count; i++) most = Math.Max(most, feasible[i].Pods.Count);
        for (var i = 0; i < scores.Length; i++) scores[i] = most == 0 ? 100 : 100 - feasible[i].Pods.Count * 100 / (most + 1);
    }
}
