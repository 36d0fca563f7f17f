using k8s.Models;
using Orchestrator.Master.Scheduling.Filters;
using Orchestrator.Master.Scheduling.Framework;
using Orchestrator.Master.Scheduling.Scoring;

namespace Orchestrator.Master.Scheduling;

/// <summary>The outcome for one pod: a node, or Kubernetes' FitError message saying why none fits.</summary>
internal sealed record ScheduleResult(string? NodeName, string? FailureMessage)
{
    public bool Scheduled => NodeName is not null;
}

/// <summary>
/// One scheduling decision (Kubernetes' schedulePod): run every filter on every node — a node fails on the
/// first filter it does not pass — then score the feasible nodes and take the best (ties by name, so decisions
/// are reproducible). The failure message counts each reason like Kubernetes:
/// "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports." Pure.
/// </summary>
internal sealed class SchedulingAlgorithm(IReadOnlyList<ISchedulingFilter> filters, IReadOnlyList<ISchedulingScorer> scorers)
{
    /// <summary>Kubernetes' default plugin order, with our scorers; no claims or volumes exist.</summary>
    public static SchedulingAlgorithm Default { get; } = Standard(NoVolumes.Instance);

    /// <summary>Kubernetes' default plugin order, with our scorers, reading claims and volumes from <paramref name="volumes"/>.</summary>
    public static SchedulingAlgorithm Standard(IVolumeLookup volumes, INamespaceLabels? namespaces = null) => new(
        [
            new NodeUnschedulableFilter(), new TaintTolerationFilter(), new NodeSelectorFilter(), new NodePortsFilter(), new NodeResourcesFitFilter(),
            new ReadWriteOncePodFilter(volumes),
            new VolumeBindingFilter(volumes), new PodTopologySpreadFilter(), new InterPodAffinityFilter(namespaces ?? NoNamespaceLabels.Instance),
        ],
        [
            new LeastAllocatedScorer(), new FewestPodsScorer(), new OwnerSpreadScorer(), new PodTopologySpreadScorer(),
            new InterPodAffinityScorer(namespaces ?? NoNamespaceLabels.Instance),
        ]);

    public IReadOnlyList<ISchedulingFilter> Filters => filters;

    /// <summary>Whether the pod passes every filter on <paramref name="node"/>, the cluster being <paramref name="nodes"/>
    /// (for preemption, which asks with some pods taken away).</summary>
    public bool Fits(V1Pod pod, NodeInfo node, IReadOnlyList<NodeInfo> nodes) => FirstFailure(pod, node, nodes) is null;

    /// <summary>The first filter the pod fails on <paramref name="node"/> and its reason, or null when it fits.</summary>
    public (string Filter, string Reason)? FirstFailure(V1Pod pod, NodeInfo node, IReadOnlyList<NodeInfo> nodes)
    {
        foreach (var filter in filters)
            if ((filter is IClusterWideFilter c ? c.Prepare(pod, nodes) : filter).Filter(pod, node) is { } reason)
                return (filter.Name, reason);
        return null;
    }

    public ScheduleResult Schedule(V1Pod pod, IReadOnlyList<NodeInfo> nodes)
    {
        if (nodes.Count == 0) return new ScheduleResult(null, "no nodes available to schedule pods");
        foreach (var preFilter in filters.OfType<ISchedulingPreFilter>())
            if (preFilter.PreFilter(pod) is { } refused)
                return new ScheduleResult(null, $"0/{nodes.Count} nodes are available: {refused}.");
        foreach (var preFilter in filters.OfType<ISchedulingNodesPreFilter>())
            if (preFilter.PreFilter(pod, nodes) is { } refused)
                return new ScheduleResult(null, $"0/{nodes.Count} nodes are available: {nodes.Count} {refused}.");

        // Plugins that count pods across the cluster look at it once for this pod.
        var podFilters = filters.Select(f => f is IClusterWideFilter c ? c.Prepare(pod, nodes) : f).ToList();
        var feasible = new List<NodeInfo>();
        var reasons = new Dictionary<string, int>();
        foreach (var node in nodes)
        {
            var reason = podFilters.Select(f => f.Filter(pod, node)).FirstOrDefault(r => r is not null);
            if (reason is null) feasible.Add(node);
            else reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
        }

        if (feasible.Count == 0)
        {
            var counted = reasons.Select(r => $"{r.Value} {r.Key}").Order(StringComparer.Ordinal);
            return new ScheduleResult(null, $"0/{nodes.Count} nodes are available: {string.Join(", ", counted)}.");
        }

        var totals = new long[feasible.Count];
        foreach (var scorer in scorers.Select(s => s is IClusterWideScorer c ? c.Prepare(pod, nodes) : s))
        {
            var scores = scorer.Score(pod, feasible);
            for (var i = 0; i < totals.Length; i++) totals[i] += (long)scorer.Weight * scores[i];
        }
        var best = 0;
        for (var i = 1; i < totals.Length; i++)
            if (totals[i] > totals[best] || (totals[i] == totals[best] && string.CompareOrdinal(feasible[i].Name, feasible[best].Name) < 0))
                best = i;
        return new ScheduleResult(feasible[best].Name, null);
    }
}
