using k8s.Models;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Scoring;

/// <summary>
/// Kubernetes' PodTopologySpread score for the ScheduleAnyway constraints: a node's raw score is, per constraint,
/// (matching pods in its domain) × log(domains + 2) + (maxSkew − 1); fewer is better, normalised as Kubernetes does
/// (100 × (max + min − score) / max); a feasible node without a constraint's key scores 0. Domains are counted over
/// the nodes the constraint's inclusion policies admit (for kubernetes.io/hostname: the feasible nodes).
/// </summary>
internal sealed class PodTopologySpreadScorer : IClusterWideScorer
{
    private const string Hostname = "kubernetes.io/hostname";

    public string Name => "PodTopologySpread";

    public int Weight => 2;

    public IReadOnlyList<int> Score(V1Pod pod, IReadOnlyList<NodeInfo> feasible) => Prepare(pod, feasible).Score(pod, feasible);

    public ISchedulingScorer Prepare(V1Pod pod, IReadOnlyList<NodeInfo> nodes)
    {
        var constraints = SpreadConstraint.Of(pod, "ScheduleAnyway");
        if (constraints.Count == 0) return PreparedScorer.Skip; // 0 on every node
        return new PreparedScorer(Name, Weight, feasible =>
        {
            if (constraints.Count == 0) return feasible.Select(_ => 0).ToList();
            var ignored = feasible.Select(n => constraints.Any(c => n.Node.Metadata.Labels?.ContainsKey(c.Key) != true)).ToArray();
            var sums = new double[feasible.Count];
            foreach (var constraint in constraints)
            {
                var counted = constraint.Key == Hostname ? feasible.Where((_, i) => !ignored[i]) : nodes;
                var counts = new Dictionary<string, int>();
                foreach (var node in counted)
                {
                    if (!SpreadConstraint.Counts(pod, node, constraints, constraint)) continue;
                    var value = node.Node.Metadata.Labels[constraint.Key];
                    counts[value] = counts.GetValueOrDefault(value) + constraint.CountOn(pod, node);
                }
                var weight = Math.Log(counts.Count + 2);
                for (var i = 0; i < feasible.Count; i++)
                {
                    if (ignored[i]) continue;
                    var count = counts.GetValueOrDefault(feasible[i].Node.Metadata.Labels[constraint.Key]);
                    sums[i] += count * weight + (constraint.Spec.MaxSkew - 1);
                }
            }
            var raw = sums.Select(s => (long)Math.Round(s)).ToArray();
            var considered = raw.Where((_, i) => !ignored[i]).ToList();
            if (considered.Count == 0) return feasible.Select(_ => 0).ToList();
            var min = considered.Min();
            var max = considered.Max();
            return raw.Select((s, i) => ignored[i] ? 0 : max == 0 ? 100 : (int)(100 * (max + min - s) / max)).ToList();
        });
    }
}
