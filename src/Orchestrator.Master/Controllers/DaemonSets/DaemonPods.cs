using k8s.Models;
using Orchestrator.Master.Controllers.ReplicaSets;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.DaemonSets;

/// <summary>
/// The pure rules of Kubernetes' DaemonSet controller: on which nodes a daemon pod should run (NodeShouldRunDaemonPod:
/// spec.nodeName, nodeSelector, required node affinity including matchFields on metadata.name, and the node's
/// NoSchedule/NoExecute taints against the pod's tolerations plus the ones every daemon pod gets), and the pod for a
/// node: the template with those tolerations, the node as required affinity (ReplaceDaemonSetPodNodeNameNodeAffinity)
/// and already bound to it, the <c>controller-revision-hash</c> and <c>pod-template-generation</c> labels.
/// </summary>
internal static class DaemonPods
{
    public const string TemplateGenerationLabel = "pod-template-generation";

    /// <summary>Kubernetes' AddOrUpdateDaemonPodTolerations.</summary>
    public static IList<V1Toleration> Tolerations(V1PodSpec spec)
    {
        var tolerations = (spec.Tolerations ?? []).ToList();
        void Add(string key, string effect)
        {
            if (!tolerations.Any(t => t.Key == key && t.OperatorProperty == "Exists" && t.Effect == effect))
                tolerations.Add(new V1Toleration { Key = key, OperatorProperty = "Exists", Effect = effect });
        }
        Add("node.kubernetes.io/not-ready", "NoExecute");
        Add("node.kubernetes.io/unreachable", "NoExecute");
        Add("node.kubernetes.io/disk-pressure", "NoSchedule");
        Add("node.kubernetes.io/memory-pressure", "NoSchedule");
        Add("node.kubernetes.io/pid-pressure", "NoSchedule");
        Add("node.kubernetes.io/unschedulable", "NoSchedule");
        if (spec.HostNetwork == true) Add("node.kubernetes.io/network-unavailable", "NoSchedule");
        return tolerations;
    }

    /// <summary>Whether a daemon pod should be placed on the node (NodeShouldRunDaemonPod's shouldRun): it fits and every
    /// NoSchedule and NoExecute taint is tolerated.</summary>
    public static bool ShouldRun(V1DaemonSet ds, V1Node node) => Fits(ds, node, t => t.Effect is "NoSchedule" or "NoExecute");

    /// <summary>Whether a daemon pod already on the node may stay (shouldContinueRunning): it fits and every NoExecute taint
    /// is tolerated — a node tainted not-ready:NoSchedule gets no new daemon pod but keeps the one it runs.</summary>
    public static bool ShouldContinueRunning(V1DaemonSet ds, V1Node node) => Fits(ds, node, t => t.Effect == "NoExecute");

    private static bool Fits(V1DaemonSet ds, V1Node node, Func<V1Taint, bool> mustTolerate)
    {
        var spec = ds.Spec.Template?.Spec ?? new V1PodSpec();
        if (!string.IsNullOrEmpty(spec.NodeName) && spec.NodeName != node.Metadata.Name) return false;
        var labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        foreach (var (key, value) in spec.NodeSelector ?? new Dictionary<string, string>())
            if (!labels.TryGetValue(key, out var actual) || actual != value) return false;
        var terms = spec.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        if (terms is { Count: > 0 } && !terms.Any(t => TermMatches(t, node))) return false;
        var tolerations = Tolerations(spec);
        return (node.Spec?.Taints ?? []).Where(mustTolerate).All(t => tolerations.Any(x => Tolerates(x, t)));
    }

    private static bool TermMatches(V1NodeSelectorTerm term, V1Node node)
    {
        var expressions = term.MatchExpressions ?? [];
        var fields = term.MatchFields ?? [];
        if (expressions.Count == 0 && fields.Count == 0) return false; // an empty term matches nothing
        var labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        return expressions.All(e => Matches(e, labels))
               && fields.All(f => Matches(f, f.Key == "metadata.name" ? new Dictionary<string, string> { ["metadata.name"] = node.Metadata.Name } : []));
    }

    private static bool Matches(V1NodeSelectorRequirement requirement, IDictionary<string, string> labels) =>
        NodeSelectorRequirements.Matches(requirement, labels);

    /// <summary>Kubernetes' toleration matching (Toleration.ToleratesTaint).</summary>
    public static bool Tolerates(V1Toleration toleration, V1Taint taint) => ControlLoop.Tolerations.Tolerates(toleration, taint);

    /// <summary>The daemon pod for <paramref name="nodeName"/>, of the revision with <paramref name="hash"/>.</summary>
    public static V1Pod New(V1DaemonSet ds, string nodeName, string hash)
    {
        var template = KubeObjects.Clone(ds.Spec.Template ?? new V1PodTemplateSpec());
        var spec = template.Spec ?? new V1PodSpec();
        spec.Tolerations = Tolerations(spec);
        spec.Affinity ??= new V1Affinity();
        spec.Affinity.NodeAffinity ??= new V1NodeAffinity();
        spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
        {
            NodeSelectorTerms =
            [
                new V1NodeSelectorTerm
                {
                    MatchFields = [new V1NodeSelectorRequirement { Key = "metadata.name", OperatorProperty = "In", Values = [nodeName] }],
                },
            ],
        };
        spec.NodeName = nodeName;
        var labels = template.Metadata?.Labels is { } l ? new Dictionary<string, string>(l) : new Dictionary<string, string>();
        labels[Revisions.ControllerRevisions.HashLabel] = hash;
        labels[TemplateGenerationLabel] = (ds.Metadata.Generation ?? 1).ToString();
        var prefix = PodReplicaSync.GenerateNamePrefix(ds.Metadata.Name);
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = prefix + PodReplicaSync.RandomSuffix(),
                GenerateName = prefix,
                NamespaceProperty = ds.Metadata.NamespaceProperty,
                Labels = labels,
                Annotations = template.Metadata?.Annotations is { } a ? new Dictionary<string, string>(a) : null,
                OwnerReferences = [OwnerReferences.NewControllerRef(ds)],
            },
            Spec = spec,
        };
    }

    public static string? HashOf(V1Pod pod) => (pod.Metadata.Labels is { } l && l.TryGetValue(Revisions.ControllerRevisions.HashLabel, out var h) ? h : null);
}
