using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Scheduling.Framework;

/// <summary>
/// A pod's topologySpreadConstraints as Kubernetes' PodTopologySpread reads them: the selector with matchLabelKeys
/// merged in from the pod's labels; which nodes count (nodeAffinityPolicy Honor — the default — counts only nodes the
/// pod's nodeSelector and required node affinity admit; nodeTaintsPolicy Honor counts only nodes whose taints it
/// tolerates, Ignore — the default — all; and only nodes carrying every constraint's topology key); and the number of
/// matching pods (not terminating, in the pod's namespace) per domain.
/// </summary>
internal sealed record SpreadConstraint(V1TopologySpreadConstraint Spec, LabelSelector Selector)
{
    public string Key => Spec.TopologyKey;

    public static IReadOnlyList<SpreadConstraint> Of(V1Pod pod, string whenUnsatisfiable)
    {
        var labels = pod.Metadata.Labels ?? new Dictionary<string, string>();
        return (pod.Spec?.TopologySpreadConstraints ?? []).Where(c => c.WhenUnsatisfiable == whenUnsatisfiable).Select(c =>
        {
            var selector = c.LabelSelector is null ? null : KubeObjects.Clone(c.LabelSelector);
            if (selector is not null)
                foreach (var key in c.MatchLabelKeys ?? [])
                    if (labels.TryGetValue(key, out var value))
                        (selector.MatchExpressions ??= []).Add(new V1LabelSelectorRequirement { Key = key, OperatorProperty = "In", Values = [value] });
            return new SpreadConstraint(c, LabelSelector.FromLabelSelector(selector));
        }).ToList();
    }

    /// <summary>Whether the node's pods count for <paramref name="constraints"/> (Kubernetes' nodeLabelsMatchSpreadConstraints
    /// and the node inclusion policies).</summary>
    public static bool Counts(V1Pod pod, NodeInfo node, IReadOnlyList<SpreadConstraint> constraints, SpreadConstraint constraint)
    {
        var labels = node.Node.Metadata.Labels ?? new Dictionary<string, string>();
        if (!constraints.All(c => labels.ContainsKey(c.Key))) return false;
        if (constraint.Spec.NodeAffinityPolicy != "Ignore" && !MatchesNodeAffinity(pod, labels)) return false;
        if (constraint.Spec.NodeTaintsPolicy == "Honor" && !ToleratesTaints(pod, node.Node)) return false;
        return true;
    }

    private static bool MatchesNodeAffinity(V1Pod pod, IDictionary<string, string> labels)
    {
        foreach (var (key, value) in pod.Spec?.NodeSelector ?? new Dictionary<string, string>())
            if (!labels.TryGetValue(key, out var actual) || actual != value) return false;
        var terms = pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        return terms is not { Count: > 0 } || terms.Any(t => (t.MatchExpressions ?? []).All(e => NodeSelectorRequirements.Matches(e, labels)));
    }

    private static bool ToleratesTaints(V1Pod pod, V1Node node) =>
        (node.Spec?.Taints ?? []).Where(t => t.Effect is "NoSchedule" or "NoExecute").All(taint =>
            (pod.Spec?.Tolerations ?? []).Any(t =>
                (string.IsNullOrEmpty(t.Effect) || t.Effect == taint.Effect) &&
                (t.OperatorProperty == "Exists"
                    ? string.IsNullOrEmpty(t.Key) || t.Key == taint.Key
                    : t.Key == taint.Key && (t.Value ?? "") == (taint.Value ?? ""))));

    public int CountOn(V1Pod pod, NodeInfo node) =>
        node.Pods.Count(p => p.Metadata.DeletionTimestamp is null && p.Metadata.NamespaceProperty == pod.Metadata.NamespaceProperty
                             && Selector.Matches(p.Metadata.Labels));
}
