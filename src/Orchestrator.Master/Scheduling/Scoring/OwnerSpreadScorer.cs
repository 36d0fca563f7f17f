using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Scoring;

/// <summary>Spreads the replicas of one controller across nodes: fewer pods of the same owner on a node scores
/// higher (Kubernetes' default pod topology spread, by hostname, which applies only to pods without
/// topologySpreadConstraints of their own).</summary>
internal sealed class OwnerSpreadScorer : ISchedulingScorer
{
    public string Name => "OwnerSpread";

    public int Weight => 2;

    public IReadOnlyList<int> Score(V1Pod pod, IReadOnlyList<NodeInfo> feasible)
    {
        if (OwnerReferences.ControllerOf(pod)?.Uid is not { } owner || pod.Spec?.TopologySpreadConstraints is { Count: > 0 }) return feasible.Select(_ => 100).ToList();
        var siblings = feasible.Select(n => n.CountOwnedBy(owner)).ToList();
        var most = siblings.Max();
        return siblings.Select(s => most == 0 ? 100 : 100 - s * 100 / (most + 1)).ToList();
    }
}
