using k8s.Models;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Scoring;

/// <summary>
/// Kubernetes' InterPodAffinity score: each topology domain collects the weights of the pod's preferred affinity
/// terms (minus those of its preferred anti-affinity terms) for every matching pod in it, and symmetrically the
/// weights of existing pods' preferred terms (and their required affinity terms, at hardPodAffinityWeight 1) that
/// match this pod; a node scores the sum over its domains, normalised to 0–100 between the lowest and highest node.
/// </summary>
internal sealed class InterPodAffinityScorer(INamespaceLabels namespaces) : IClusterWideScorer
{
    private const int HardPodAffinityWeight = 1;

    public string Name => "InterPodAffinity";

    public int Weight => 2;

    public IReadOnlyList<int> Score(V1Pod pod, IReadOnlyList<NodeInfo> feasible) => Prepare(pod, feasible).Score(pod, feasible);

    public ISchedulingScorer Prepare(V1Pod pod, IReadOnlyList<NodeInfo> nodes)
    {
        var preferred = AffinityTerm.Preferred(pod.Spec?.Affinity?.PodAffinity?.PreferredDuringSchedulingIgnoredDuringExecution, pod);
        var avoided = AffinityTerm.Preferred(pod.Spec?.Affinity?.PodAntiAffinity?.PreferredDuringSchedulingIgnoredDuringExecution, pod);
        var domains = new Dictionary<(string, string), long>();

        void Add(string key, IDictionary<string, string> labels, long weight)
        {
            if (weight != 0 && labels.TryGetValue(key, out var value)) domains[(key, value)] = domains.GetValueOrDefault((key, value)) + weight;
        }

        var ownTerms = preferred.Count > 0 || avoided.Count > 0;
        // without terms of its own, only existing pods' terms can score: the nodes holding pods with affinity terms
        foreach (var node in ownTerms ? nodes : NodeSnapshot.MayHavePodsWithAffinity(nodes))
        {
            var candidates = ownTerms ? node.Pods : node.PodsWithAffinity;
            if (candidates.Count == 0) continue;
            var labels = node.Node.Metadata.Labels ?? new Dictionary<string, string>();
            foreach (var existing in candidates)
            {
                foreach (var term in preferred)
                    if (term.Matches(existing, namespaces)) Add(term.TopologyKey, labels, term.Weight);
                foreach (var term in avoided)
                    if (term.Matches(existing, namespaces)) Add(term.TopologyKey, labels, -term.Weight);
                if (existing.Spec?.Affinity is not { } theirs) continue;
                foreach (var term in AffinityTerm.Required(theirs.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution, existing))
                    if (term.Matches(pod, namespaces)) Add(term.TopologyKey, labels, HardPodAffinityWeight);
                foreach (var term in AffinityTerm.Preferred(theirs.PodAffinity?.PreferredDuringSchedulingIgnoredDuringExecution, existing))
                    if (term.Matches(pod, namespaces)) Add(term.TopologyKey, labels, term.Weight);
                foreach (var term in AffinityTerm.Preferred(theirs.PodAntiAffinity?.PreferredDuringSchedulingIgnoredDuringExecution, existing))
                    if (term.Matches(pod, namespaces)) Add(term.TopologyKey, labels, -term.Weight);
            }
        }

        if (domains.Count == 0) return PreparedScorer.Skip; // 0 on every node
        return new PreparedScorer(Name, Weight, feasible =>
        {
            var raw = feasible.Select(n =>
                (n.Node.Metadata.Labels ?? new Dictionary<string, string>()).Sum(l => domains.GetValueOrDefault((l.Key, l.Value)))).ToList();
            if (domains.Count == 0) return raw.Select(_ => 0).ToList();
            var min = raw.Min();
            var max = raw.Max();
            return raw.Select(s => max == min ? 0 : (int)(100 * (s - min) / (max - min))).ToList();
        });
    }
}
