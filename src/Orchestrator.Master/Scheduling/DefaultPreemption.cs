using k8s.Models;
using Orchestrator.Master.Scheduling.Filters;
using Orchestrator.Master.Scheduling.Framework;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Scheduling;

/// <summary>The node a pending pod may take once its victims are gone, or why preemption cannot help; when no node
/// is a candidate any more, the pod's nomination is void (Kubernetes' NewPostFilterResultWithNominatedNode("")).</summary>
internal sealed record PreemptionResult(string? NodeName, IReadOnlyList<V1Pod> Victims, string? FailureMessage, bool ClearsNomination = false);

/// <summary>
/// Kubernetes' DefaultPreemption (the PostFilter after a pod fits nowhere): on each node, take away every pod of lower
/// priority; if the pod then fits, give back as many of them as still lets it fit — those a PodDisruptionBudget
/// protects first, then the others, most important first — and the rest are the node's victims. The node chosen has
/// the fewest budget violations, then the lowest highest victim priority, the lowest sum of priorities, the fewest
/// victims, the latest start among its most important victims. Pods with preemptionPolicy Never, and pods whose
/// nominated node still has a lower-priority pod terminating, do not preempt. Pure.
/// </summary>
internal sealed class DefaultPreemption(SchedulingAlgorithm algorithm)
{
    public const string NoVictims = "No preemption victims found for incoming pod";
    public const string NotHelpful = "Preemption is not helpful for scheduling";

    public static int PriorityOf(V1Pod pod) => pod.Spec?.Priority ?? 0;

    public PreemptionResult Preempt(V1Pod pod, IReadOnlyList<NodeInfo> nodes, IReadOnlyList<V1PodDisruptionBudget> budgets)
    {
        if (pod.Spec?.PreemptionPolicy == "Never") return new(null, [], "not eligible due to preemptionPolicy=Never.");
        var priority = PriorityOf(pod);
        if (pod.Status?.NominatedNodeName is { Length: > 0 } nominated
            && nodes.FirstOrDefault(n => n.Name == nominated) is { } nominatedNode
            && nominatedNode.Pods.Any(p => p.Metadata.DeletionTimestamp is not null && PriorityOf(p) < priority))
            return new(null, [], "not eligible due to a terminating pod on the nominated node.");

        var reasons = new Dictionary<string, int>();
        void Count(string reason) => reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
        var candidates = new List<(NodeInfo Node, List<V1Pod> Victims, int Violations)>();
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            if (algorithm.FirstFailure(pod, node, nodes) is { } failure && Unresolvable(failure.Filter, failure.Reason))
            {
                Count(NotHelpful); // taking pods away cannot change what failed
                continue;
            }
            var lower = node.Pods.Where(p => PriorityOf(p) < priority && p.Metadata.Uid != pod.Metadata.Uid).ToList();
            if (lower.Count == 0)
            {
                Count(NoVictims);
                continue;
            }
            var kept = node.Pods.Except(lower).ToList();
            if (Failure(pod, nodes, i, kept) is { } still)
            {
                Count(still);
                continue;
            }
            var (violating, free) = SplitByBudget(lower.OrderByDescending(PriorityOf).ThenBy(StartTime).ToList(), budgets);
            var victims = new List<V1Pod>();
            var violations = 0;
            foreach (var (candidate, breaks) in violating.Select(p => (p, true)).Concat(free.Select(p => (p, false))))
            {
                kept.Add(candidate);
                if (Fits(pod, nodes, i, kept)) continue; // reprieved
                kept.RemoveAt(kept.Count - 1);
                victims.Add(candidate);
                if (breaks) violations++;
            }
            candidates.Add((node, victims, violations));
        }

        if (candidates.Count == 0)
        {
            var counted = reasons.Select(r => $"{r.Value} {r.Key}").Order(StringComparer.Ordinal);
            return new(null, [], $"0/{nodes.Count} nodes are available: {string.Join(", ", counted)}.", ClearsNomination: true);
        }
        var best = candidates
            .OrderBy(c => c.Violations)
            .ThenBy(c => c.Victims.Count == 0 ? int.MinValue : c.Victims.Max(PriorityOf))
            .ThenBy(c => c.Victims.Sum(v => (long)PriorityOf(v) + int.MaxValue + 1))
            .ThenBy(c => c.Victims.Count)
            .ThenByDescending(c => EarliestStartOfMostImportant(c.Victims))
            .First();
        return new(best.Node.Name, best.Victims, null);
    }

    private bool Fits(V1Pod pod, IReadOnlyList<NodeInfo> nodes, int index, IReadOnlyList<V1Pod> remaining) =>
        Failure(pod, nodes, index, remaining) is null;

    private string? Failure(V1Pod pod, IReadOnlyList<NodeInfo> nodes, int index, IReadOnlyList<V1Pod> remaining)
    {
        var changed = nodes.ToArray();
        changed[index] = new NodeInfo(nodes[index].Node, remaining.ToList());
        return algorithm.FirstFailure(pod, changed[index], changed)?.Reason;
    }

    /// <summary>The failures Kubernetes' plugins report as UnschedulableAndUnresolvable: no preemption can fix them.</summary>
    private static bool Unresolvable(string filter, string reason) =>
        filter is "NodeUnschedulable" or "TaintToleration" or "NodeAffinity" or "VolumeBinding"
        || reason is InterPodAffinityFilter.AffinityReason or PodTopologySpreadFilter.MissingLabelReason;

    private static DateTime StartTime(V1Pod pod) => pod.Status?.StartTime ?? pod.Metadata.CreationTimestamp ?? DateTime.MaxValue;

    private static DateTime EarliestStartOfMostImportant(IReadOnlyList<V1Pod> victims)
    {
        if (victims.Count == 0) return DateTime.MaxValue;
        var top = victims.Max(PriorityOf);
        return victims.Where(v => PriorityOf(v) == top).Min(StartTime);
    }

    /// <summary>Kubernetes' filterPodsWithPDBViolation: a pod breaks a budget of its namespace that selects it once the
    /// budget's disruptionsAllowed is used up by the pods before it.</summary>
    private static (List<V1Pod> Violating, List<V1Pod> Free) SplitByBudget(IReadOnlyList<V1Pod> pods, IReadOnlyList<V1PodDisruptionBudget> budgets)
    {
        var allowed = budgets.Select(b => b.Status?.DisruptionsAllowed ?? 0).ToArray();
        var violating = new List<V1Pod>();
        var free = new List<V1Pod>();
        foreach (var pod in pods)
        {
            var breaks = false;
            for (var i = 0; i < budgets.Count; i++)
            {
                var budget = budgets[i];
                if (budget.Metadata.NamespaceProperty != pod.Metadata.NamespaceProperty || budget.Spec?.Selector is not { } selector) continue;
                var parsed = LabelSelector.FromLabelSelector(selector);
                if (parsed.IsEmpty || !parsed.Matches(pod.Metadata.Labels)) continue;
                if (budget.Status?.DisruptedPods?.ContainsKey(pod.Metadata.Name) == true) continue;
                if (--allowed[i] < 0) breaks = true;
            }
            (breaks ? violating : free).Add(pod);
        }
        return (violating, free);
    }
}
