using k8s.Models;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Filters;

/// <summary>
/// Kubernetes' PodTopologySpread filter for the DoNotSchedule constraints: placing the pod on the node must keep
/// (matching pods in the node's domain + 1 if the pod matches) − (fewest matching pods in any domain) within maxSkew;
/// with minDomains, fewer domains than that count as a minimum of 0. A node without the topology key fails.
/// </summary>
internal sealed class PodTopologySpreadFilter : IClusterWideFilter
{
    public const string Reason = "node(s) didn't match pod topology spread constraints";
    public const string MissingLabelReason = Reason + " (missing required label)";

    public string Name => "PodTopologySpread";

    public string? Filter(V1Pod pod, NodeInfo node) => Prepare(pod, [node]).Filter(pod, node);

    public ISchedulingFilter Prepare(V1Pod pod, IReadOnlyList<NodeInfo> nodes)
    {
        var constraints = SpreadConstraint.Of(pod, "DoNotSchedule");
        if (constraints.Count == 0) return PreparedFilter.Skip;
        var counts = constraints.Select(_ => new Dictionary<string, int>()).ToArray();
        foreach (var node in nodes)
            for (var i = 0; i < constraints.Count; i++)
            {
                if (!SpreadConstraint.Counts(pod, node, constraints, constraints[i])) continue;
                var value = node.Node.Metadata.Labels[constraints[i].Key];
                counts[i][value] = counts[i].GetValueOrDefault(value) + constraints[i].CountOn(pod, node);
            }
        var minimum = constraints.Select((c, i) =>
            counts[i].Count == 0 || counts[i].Count < (c.Spec.MinDomains ?? 1) ? 0 : counts[i].Values.Min()).ToArray();
        var self = constraints.Select(c => c.Selector.Matches(pod.Metadata.Labels) ? 1 : 0).ToArray();

        return new PreparedFilter(Name, node =>
        {
            var labels = node.Node.Metadata.Labels ?? new Dictionary<string, string>();
            for (var i = 0; i < constraints.Count; i++)
            {
                if (!labels.TryGetValue(constraints[i].Key, out var value)) return MissingLabelReason;
                var skew = counts[i].GetValueOrDefault(value) + self[i] - minimum[i];
                if (skew > constraints[i].Spec.MaxSkew) return Reason;
            }
            return null;
        });
    }
}
