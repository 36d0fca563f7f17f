using k8s.Models;
using Orchestrator.Master.Scheduling.Filters;
using Orchestrator.Master.Scheduling.Framework;
using Orchestrator.Master.Scheduling.Scoring;

namespace Orchestrator.Master.Scheduling;

/// <summary>The outcome for one pod: a node, or Kubernetes' FitError message saying why none fits; and how many nodes
/// were filtered to decide (where the next decision starts looking, Kubernetes' nextStartNodeIndex).</summary>
internal sealed record ScheduleResult(string? NodeName, string? FailureMessage, int NodesProcessed = 0)
{
    public bool Scheduled => NodeName is not null;
}

/// <summary>
/// One scheduling decision (Kubernetes' schedulePod): run the filters on the nodes — a node fails on the first filter
/// it does not pass — from <c>startIndex</c> round the list until enough feasible nodes are found (Kubernetes'
/// percentageOfNodesToScore: <see cref="NumFeasibleNodesToFind"/>), then score the feasible nodes and take the best
/// (ties by name, so decisions are reproducible). The failure message counts each reason like Kubernetes:
/// "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports." Pure.
/// </summary>
internal sealed class SchedulingAlgorithm(IReadOnlyList<ISchedulingFilter> filters, IReadOnlyList<ISchedulingScorer> scorers,
    int percentageOfNodesToScore = 0)
{
    /// <summary>Kubernetes' minFeasibleNodesToFind: below this many nodes every node is looked at.</summary>
    public const int MinFeasibleNodesToFind = 100;

    /// <summary>Kubernetes' minFeasibleNodesPercentageToFind: the adaptive percentage never goes below it.</summary>
    public const int MinFeasibleNodesPercentageToFind = 5;

    /// <summary>Kubernetes' default plugin order, with our scorers; no claims or volumes exist.</summary>
    public static SchedulingAlgorithm Default { get; } = Standard(NoVolumes.Instance);

    /// <summary>Kubernetes' default plugin order, with our scorers, reading claims and volumes from <paramref name="volumes"/>;
    /// <paramref name="percentageOfNodesToScore"/> 0 is Kubernetes' adaptive default.</summary>
    public static SchedulingAlgorithm Standard(IVolumeLookup volumes, INamespaceLabels? namespaces = null, int percentageOfNodesToScore = 0) => new(
        [
            new NodeUnschedulableFilter(), new TaintTolerationFilter(), new NodeSelectorFilter(), new NodePortsFilter(), new NodeResourcesFitFilter(),
            new ReadWriteOncePodFilter(volumes),
            new VolumeBindingFilter(volumes), new PodTopologySpreadFilter(), new InterPodAffinityFilter(namespaces ?? NoNamespaceLabels.Instance),
        ],
        [
            new LeastAllocatedScorer(), new FewestPodsScorer(), new OwnerSpreadScorer(), new PodTopologySpreadScorer(),
            new InterPodAffinityScorer(namespaces ?? NoNamespaceLabels.Instance),
        ],
        percentageOfNodesToScore);

    public IReadOnlyList<ISchedulingFilter> Filters => filters;

    /// <summary>How many feasible nodes are enough to stop filtering (Kubernetes' numFeasibleNodesToFind): every node
    /// below <see cref="MinFeasibleNodesToFind"/>; else the percentage — when not set, 50% less one point per 125 nodes,
    /// at least <see cref="MinFeasibleNodesPercentageToFind"/>% — and never fewer than <see cref="MinFeasibleNodesToFind"/>.</summary>
    public static int NumFeasibleNodesToFind(int percentageOfNodesToScore, int allNodes)
    {
        if (allNodes < MinFeasibleNodesToFind) return allNodes;
        var percentage = percentageOfNodesToScore;
        if (percentage <= 0) percentage = Math.Max(50 - allNodes / 125, MinFeasibleNodesPercentageToFind);
        var count = (int)((long)allNodes * percentage / 100);
        return Math.Max(count, MinFeasibleNodesToFind);
    }

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

    /// <param name="startIndex">Where in <paramref name="nodes"/> filtering starts (the previous decision's start plus the
    /// nodes it processed), so that successive pods look at different nodes when not all are filtered.</param>
    public ScheduleResult Schedule(V1Pod pod, IReadOnlyList<NodeInfo> nodes, int startIndex = 0)
    {
        if (nodes.Count == 0) return new ScheduleResult(null, "no nodes available to schedule pods");
        foreach (var filter in filters)
            if (filter is ISchedulingPreFilter preFilter && preFilter.PreFilter(pod) is { } refused)
                return new ScheduleResult(null, $"0/{nodes.Count} nodes are available: {refused}.");
        foreach (var filter in filters)
            if (filter is ISchedulingNodesPreFilter preFilter && preFilter.PreFilter(pod, nodes) is { } refused)
                return new ScheduleResult(null, $"0/{nodes.Count} nodes are available: {nodes.Count} {refused}.");

        // Plugins that count pods across the cluster look at it once for this pod; those that cannot refuse this pod
        // anywhere (PreFilter's Skip) are left out of the per-node loop.
        // the decision's working lists are the thread's (a decision never awaits), reused from pod to pod: per pod they
        // were ≈ 17 KB of garbage at 1,000 nodes (420 feasible nodes: the list, their indexes, totals, one score array
        // per scorer)
        var scratch = t_scratch ??= new Scratch();
        var podFilters = scratch.Filters;
        podFilters.Clear();
        foreach (var filter in filters)
        {
            if (filter is ISkippableFilter s && s.Skips(pod)) continue;
            var prepared = filter is IClusterWideFilter c ? c.Prepare(pod, nodes) : filter;
            if (!ReferenceEquals(prepared, PreparedFilter.Skip)) podFilters.Add(prepared);
        }
        var wanted = NumFeasibleNodesToFind(percentageOfNodesToScore, nodes.Count);
        var feasible = scratch.Feasible;
        feasible.Clear();
        feasible.EnsureCapacity(Math.Min(wanted, nodes.Count));
        // the cache's snapshot is read as an array (no interface call per node), and its order is the names' order, so
        // ties are broken by index rather than by comparing names
        var byName = nodes is NodeSnapshot snapshot ? snapshot.ByName : default;
        var indexes = byName.IsEmpty ? null : Scratch.AtLeast(ref scratch.Indexes, Math.Min(wanted, nodes.Count));
        Dictionary<string, int>? reasons = null;
        var start = ((startIndex % nodes.Count) + nodes.Count) % nodes.Count;
        var processed = 0;
        while (processed < nodes.Count && feasible.Count < wanted)
        {
            var index = start + processed;
            if (index >= nodes.Count) index -= nodes.Count;
            var node = indexes is null ? nodes[index] : byName[index];
            processed++;
            string? reason = null;
            for (var f = 0; f < podFilters.Count; f++)
                if ((reason = podFilters[f].Filter(pod, node)) is not null) break;
            if (reason is null)
            {
                if (indexes is not null) indexes[feasible.Count] = index;
                feasible.Add(node);
            }
            else
            {
                reasons ??= new Dictionary<string, int>();
                reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
            }
        }

        if (feasible.Count == 0)
        {
            var counted = reasons!.Select(r => $"{r.Value} {r.Key}").Order(StringComparer.Ordinal);
            return new ScheduleResult(null, $"0/{nodes.Count} nodes are available: {string.Join(", ", counted)}.", processed);
        }

        var totals = Scratch.AtLeast(ref scratch.Totals, feasible.Count).AsSpan(0, feasible.Count);
        totals.Clear();
        foreach (var scorer in scorers)
        {
            var prepared = scorer is IClusterWideScorer c ? c.Prepare(pod, nodes) : scorer;
            if (ReferenceEquals(prepared, PreparedScorer.Skip)) continue; // the same score on every node
            var weight = (long)scorer.Weight;
            if (prepared is ISchedulingScorerInto into)
            {
                var scores = Scratch.AtLeast(ref scratch.Scores, feasible.Count).AsSpan(0, feasible.Count);
                into.Score(pod, feasible, scores);
                for (var i = 0; i < totals.Length; i++) totals[i] += weight * scores[i];
            }
            else
            {
                var scores = prepared.Score(pod, feasible);
                for (var i = 0; i < totals.Length; i++) totals[i] += weight * scores[i];
            }
        }
        var best = 0;
        for (var i = 1; i < totals.Length; i++)
            if (totals[i] > totals[best] || (totals[i] == totals[best] &&
                                             (indexes is not null ? indexes[i] < indexes[best] : string.CompareOrdinal(feasible[i].Name, feasible[best].Name) < 0)))
                best = i;
        var chosen = feasible[best].Name;
        feasible.Clear(); // holds no node past the decision
        return new ScheduleResult(chosen, null, processed);
    }

    [ThreadStatic] private static Scratch? t_scratch;

    /// <summary>A thread's working lists for its decisions (one decision at a time per thread).</summary>
    private sealed class Scratch
    {
        public readonly List<ISchedulingFilter> Filters = new();
        public readonly List<NodeInfo> Feasible = new();
        public int[] Indexes = [];
        public long[] Totals = [];
        public int[] Scores = [];

        public static T[] AtLeast<T>(ref T[] array, int length)
        {
            if (array.Length < length) array = new T[Math.Max(length, array.Length * 2)];
            return array;
        }
    }
}
