using k8s.Models;
using Orchestrator.Master.Controllers;

namespace Orchestrator.Master.Scheduling.Scoring;

/// <summary>Spreads the replicas of one controller across nodes: fewer pods of the same owner on a node scores
/// higher (Kubernetes' default pod topology spread, by hostname).</summary>
public sealed class OwnerSpreadScorer : ISchedulingScorer
{
    public string Name => "OwnerSpread";

    public int Weight => 2;

    public int Score(V1Pod pod, NodeInfo node, IReadOnlyList<NodeInfo> feasible)
    {
        if (OwnerReferences.ControllerOf(pod)?.Uid is not { } owner) return 100;
        int Siblings(NodeInfo n) => n.Pods.Count(p => OwnerReferences.ControllerOf(p)?.Uid == owner && p.Metadata.Uid != pod.Metadata.Uid);
        var most = feasible.Max(Siblings);
        return most == 0 ? 100 : 100 - Siblings(node) * 100 / (most + 1);
    }
}
