using k8s.Models;

namespace Orchestrator.Master.Scheduling.Scoring;

/// <summary>Prefers the node running the fewest pods — a stand-in for Kubernetes' LeastAllocated until
/// resource requests are counted.</summary>
public sealed class FewestPodsScorer : ISchedulingScorer
{
    public string Name => "FewestPods";

    public int Score(V1Pod pod, NodeInfo node, IReadOnlyList<NodeInfo> feasible)
    {
        var most = feasible.Max(n => n.Pods.Count);
        return most == 0 ? 100 : 100 - node.Pods.Count * 100 / (most + 1);
    }
}
