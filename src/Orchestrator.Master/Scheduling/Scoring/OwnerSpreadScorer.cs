using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Scoring;

/// <summary>Spreads the replicas of one controller across nodes: fewer pods of the same owner on a node scores
/// higher (Kubernetes' default pod topology spread, by hostname, which applies only to pods without
/// topologySpreadConstraints of their own).</summary>
internal sealed class OwnerSpreadScorer : IClusterWideScorer, ISchedulingScorerInto
{
    public string Name => "OwnerSpread";

    public int Weight => 2;

    /// <summary>A pod without a controller, or with constraints of its own, scores 100 on every node: left out.</summary>
    public ISchedulingScorer Prepare(V1Pod pod, IReadOnlyList<NodeInfo> nodes) =>
        Owner(pod) is null ? PreparedScorer.Skip : this;

    private static string? Owner(V1Pod pod) =>
        pod.Spec?.TopologySpreadConstraints is { Count: > 0 } ? null : OwnerReferences.ControllerOf(pod)?.Uid;

    public void Score(V1Pod pod, IReadOnlyList<NodeInfo> feasible, Span<int> scores)
    {
        if (Owner(pod) is not { } owner)
        {
            scores.Fill(100);
            return;
        }
        var most = 0;
        var hash = NodeFacts.UidHash(owner);
        for (var i = 0; i < scores.Length; i++) most = Math.Max(most, scores[i] = feasible[i].Owners.Of(owner, hash));
        for (var i = 0; i < scores.Length; i++) scores[i] = most == 0 ? 100 : 100 - scores[i] * 100 / (most + 1);
    }
}
