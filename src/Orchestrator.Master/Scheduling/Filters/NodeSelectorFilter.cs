using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Filters;

/// <summary>spec.nodeSelector must match the node's labels, and required node affinity terms (matchExpressions
/// over labels) must hold for one term (Kubernetes' NodeAffinity plugin, without matchFields).</summary>
internal sealed class NodeSelectorFilter : ISkippableFilter
{
    public const string Reason = "node(s) didn't match Pod's node affinity/selector";

    public string Name => "NodeAffinity";

    /// <summary>No nodeSelector and no required node affinity: every node matches.</summary>
    public bool Skips(V1Pod pod) =>
        pod.Spec?.NodeSelector is not { Count: > 0 } && pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms is not { Count: > 0 };

    private static readonly Dictionary<string, string> NoLabels = new();

    public string? Filter(V1Pod pod, NodeInfo node)
    {
        var labels = node.Node.Metadata.Labels ?? NoLabels;
        if (pod.Spec?.NodeSelector is { } selector)
            foreach (var (key, value) in selector)
                if (!labels.TryGetValue(key, out var actual) || actual != value) return Reason;

        var terms = pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        if (terms is { Count: > 0 } && !terms.Any(term => (term.MatchExpressions ?? []).All(e => Matches(e, labels))))
            return Reason;
        return null;
    }

    private static bool Matches(V1NodeSelectorRequirement requirement, IDictionary<string, string> labels) =>
        NodeSelectorRequirements.Matches(requirement, labels);
}
