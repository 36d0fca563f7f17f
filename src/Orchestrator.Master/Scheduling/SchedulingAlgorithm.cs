using k8s.Models;
using Orchestrator.Master.Scheduling.Filters;
using Orchestrator.Master.Scheduling.Scoring;

namespace Orchestrator.Master.Scheduling;

/// <summary>The outcome for one pod: a node, or Kubernetes' FitError message saying why none fits.</summary>
public sealed record ScheduleResult(string? NodeName, string? FailureMessage)
{
    public bool Scheduled => NodeName is not null;
}

/// <summary>
/// One scheduling decision (Kubernetes' schedulePod): run every filter on every node — a node fails on the
/// first filter it does not pass — then score the feasible nodes and take the best (ties by name, so decisions
/// are reproducible). The failure message counts each reason like Kubernetes:
/// "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports." Pure.
/// </summary>
public sealed class SchedulingAlgorithm(IReadOnlyList<ISchedulingFilter> filters, IReadOnlyList<ISchedulingScorer> scorers)
{
    /// <summary>Kubernetes' default plugin order, with our scorers.</summary>
    public static SchedulingAlgorithm Default { get; } = new(
        [new NodeUnschedulableFilter(), new TaintTolerationFilter(), new NodeSelectorFilter(), new NodePortsFilter()],
        [new FewestPodsScorer(), new OwnerSpreadScorer()]);

    public ScheduleResult Schedule(V1Pod pod, IReadOnlyList<NodeInfo> nodes)
    {
        if (nodes.Count == 0) return new ScheduleResult(null, "no nodes available to schedule pods");

        var feasible = new List<NodeInfo>();
        var reasons = new Dictionary<string, int>();
        foreach (var node in nodes)
        {
            var reason = filters.Select(f => f.Filter(pod, node)).FirstOrDefault(r => r is not null);
            if (reason is null) feasible.Add(node);
            else reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
        }

        if (feasible.Count == 0)
        {
            var counted = reasons.Select(r => $"{r.Value} {r.Key}").Order(StringComparer.Ordinal);
            return new ScheduleResult(null, $"0/{nodes.Count} nodes are available: {string.Join(", ", counted)}.");
        }

        var best = feasible
            .Select(n => (Node: n, Score: scorers.Sum(s => s.Weight * s.Score(pod, n, feasible))))
            .OrderByDescending(x => x.Score)
            .ThenBy(x => x.Node.Name, StringComparer.Ordinal)
            .First();
        return new ScheduleResult(best.Node.Name, null);
    }
}
