using k8s.Models;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Filters;

/// <summary>
/// Kubernetes' InterPodAffinity filter: the pod's required affinity terms must each find a matching pod in the
/// node's topology domain (unless no pod anywhere matches and the pod matches its own terms — the first of a group);
/// its required anti-affinity terms must find none there; and no existing pod's required anti-affinity may match the
/// pod within that pod's domain. Domains are the values of the term's topologyKey on the nodes; a node without the
/// key is no domain. Counting is once per pod over every node (the pods with affinity only, when the pod has none).
/// </summary>
internal sealed class InterPodAffinityFilter(INamespaceLabels namespaces) : IClusterWideFilter
{
    public const string AffinityReason = "node(s) didn't match pod affinity rules";
    public const string AntiAffinityReason = "node(s) didn't match pod anti-affinity rules";
    public const string ExistingAntiAffinityReason = "node(s) didn't satisfy existing pods anti-affinity rules";

    public string Name => "InterPodAffinity";

    public string? Filter(V1Pod pod, NodeInfo node) => Prepare(pod, [node]).Filter(pod, node);

    public ISchedulingFilter Prepare(V1Pod pod, IReadOnlyList<NodeInfo> nodes)
    {
        var affinity = AffinityTerm.Required(pod.Spec?.Affinity?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution, pod);
        var antiAffinity = AffinityTerm.Required(pod.Spec?.Affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution, pod);

        // (topologyKey, value) domains where an existing pod's anti-affinity forbids this pod
        var forbidden = new HashSet<(string, string)>();
        // per term: domains with a matching pod
        var affinityCounts = affinity.Select(_ => new HashSet<string>()).ToArray();
        var antiCounts = antiAffinity.Select(_ => new HashSet<string>()).ToArray();
        var anyAffinityMatch = false;
        var ownTerms = affinity.Count > 0 || antiAffinity.Count > 0;
        // most nodes hold no pod with affinity terms: nothing to learn from them unless this pod has terms of its own
        foreach (var node in ownTerms ? nodes : NodeSnapshot.MayHavePodsWithAffinity(nodes))
        {
            if (!ownTerms && node.PodsWithAffinity.Count == 0) continue;
            var labels = node.Node.Metadata.Labels ?? new Dictionary<string, string>();
            foreach (var existing in node.PodsWithAffinity)
                foreach (var term in AffinityTerm.Required(existing.Spec.Affinity.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution, existing))
                    if (labels.TryGetValue(term.TopologyKey, out var value) && term.Matches(pod, namespaces))
                        forbidden.Add((term.TopologyKey, value));
            if (affinity.Count == 0 && antiAffinity.Count == 0) continue;
            foreach (var existing in node.Pods)
            {
                for (var i = 0; i < affinity.Count; i++)
                    if (affinity[i].Matches(existing, namespaces))
                    {
                        anyAffinityMatch = true;
                        if (labels.TryGetValue(affinity[i].TopologyKey, out var value)) affinityCounts[i].Add(value);
                    }
                for (var i = 0; i < antiAffinity.Count; i++)
                    if (labels.TryGetValue(antiAffinity[i].TopologyKey, out var value) && antiAffinity[i].Matches(existing, namespaces))
                        antiCounts[i].Add(value);
            }
        }
        // The first pod of a group that has affinity to itself may go anywhere its terms' keys exist.
        var selfAffine = !anyAffinityMatch && affinity.All(t => t.Matches(pod, namespaces));
        if (!ownTerms && forbidden.Count == 0) return PreparedFilter.Skip; // nothing can refuse the pod (PreFilter's Skip)

        return new PreparedFilter(Name, node =>
        {
            var labels = node.Node.Metadata.Labels ?? new Dictionary<string, string>();
            for (var i = 0; i < affinity.Count; i++)
            {
                if (!labels.TryGetValue(affinity[i].TopologyKey, out var value)) return AffinityReason;
                if (!affinityCounts[i].Contains(value) && !selfAffine) return AffinityReason;
            }
            for (var i = 0; i < antiAffinity.Count; i++)
                if (labels.TryGetValue(antiAffinity[i].TopologyKey, out var value) && antiCounts[i].Contains(value))
                    return AntiAffinityReason;
            if (forbidden.Count > 0)
                foreach (var (key, value) in labels)
                    if (forbidden.Contains((key, value))) return ExistingAntiAffinityReason;
            return null;
        });
    }
}
