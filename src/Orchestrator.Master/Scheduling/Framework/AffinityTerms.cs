using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Scheduling.Framework;

/// <summary>One pod affinity term as Kubernetes' scheduler reads it (framework.AffinityTerm): its label selector with
/// matchLabelKeys/mismatchLabelKeys merged in from the owning pod's labels, the namespaces it covers (the listed ones
/// and those namespaceSelector matches; the owner's own when neither is given), its topology key and weight.</summary>
internal sealed record AffinityTerm(LabelSelector Selector, IReadOnlySet<string> Namespaces, LabelSelector? NamespaceSelector, string TopologyKey, int Weight)
{
    public static AffinityTerm From(V1PodAffinityTerm term, V1Pod owner, int weight = 1)
    {
        var selector = term.LabelSelector is null ? null : KubeObjects.Clone(term.LabelSelector);
        var labels = owner.Metadata.Labels ?? new Dictionary<string, string>();
        if (selector is not null)
        {
            // Kubernetes merges these into labelSelector when the pod is created (MatchLabelKeysInPodAffinity, beta in 1.32)
            foreach (var key in term.MatchLabelKeys ?? [])
                if (labels.TryGetValue(key, out var value))
                    (selector.MatchExpressions ??= []).Add(new V1LabelSelectorRequirement { Key = key, OperatorProperty = "In", Values = [value] });
            foreach (var key in term.MismatchLabelKeys ?? [])
                if (labels.TryGetValue(key, out var value))
                    (selector.MatchExpressions ??= []).Add(new V1LabelSelectorRequirement { Key = key, OperatorProperty = "NotIn", Values = [value] });
        }
        var namespaces = new HashSet<string>(term.Namespaces ?? []);
        if (namespaces.Count == 0 && term.NamespaceSelector is null) namespaces.Add(owner.Metadata.NamespaceProperty ?? "default");
        return new AffinityTerm(LabelSelector.FromLabelSelector(selector), namespaces,
            term.NamespaceSelector is null ? null : LabelSelector.FromLabelSelector(term.NamespaceSelector), term.TopologyKey, weight);
    }

    /// <summary>Whether <paramref name="pod"/> is one the term speaks of (Kubernetes' AffinityTerm.Matches).</summary>
    public bool Matches(V1Pod pod, INamespaceLabels namespaces)
    {
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        var inNamespace = Namespaces.Contains(ns) || (NamespaceSelector is { } s && s.Matches(namespaces.LabelsOf(ns)));
        return inNamespace && Selector.Matches(pod.Metadata.Labels);
    }

    public static IReadOnlyList<AffinityTerm> Required(IList<V1PodAffinityTerm>? terms, V1Pod owner) =>
        (terms ?? []).Select(t => From(t, owner)).ToList();

    public static IReadOnlyList<AffinityTerm> Preferred(IList<V1WeightedPodAffinityTerm>? terms, V1Pod owner) =>
        (terms ?? []).Where(t => t.PodAffinityTerm is not null).Select(t => From(t.PodAffinityTerm, owner, t.Weight)).ToList();
}
