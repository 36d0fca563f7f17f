using k8s.Models;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Filters;

/// <summary>
/// A node's NoSchedule/NoExecute taints must be tolerated (Kubernetes' TaintToleration plugin). A node whose
/// Ready condition is False or Unknown carries node.kubernetes.io/not-ready or /unreachable, as the node
/// lifecycle controller would taint it — so pods go only to Ready nodes unless they tolerate that.
/// </summary>
internal sealed class TaintTolerationFilter : ISchedulingFilter
{
    public const string NotReadyTaint = NodeTaints.NotReady;
    public const string UnreachableTaint = NodeTaints.Unreachable;

    public string Name => "TaintToleration";

    public string? Filter(V1Pod pod, NodeInfo node)
    {
        // indexed: a foreach over the interface would box an enumerator on every node of every decision
        var taints = node.Taints;
        for (var i = 0; i < taints.Count; i++)
        {
            var taint = taints[i];
            if (taint.Effect is not ("NoSchedule" or "NoExecute")) continue;
            if (!Tolerates(pod, taint)) return $"node(s) had untolerated taint {{{taint.Key}: {taint.Value}}}";
        }
        return null;
    }

    public static IEnumerable<V1Taint> Taints(V1Node node) => NodeTaints.Of(node);

    public static bool Tolerates(V1Pod pod, V1Taint taint) =>
        (pod.Spec?.Tolerations ?? []).Any(t =>
            (string.IsNullOrEmpty(t.Effect) || t.Effect == taint.Effect) &&
            (t.OperatorProperty == "Exists"
                ? string.IsNullOrEmpty(t.Key) || t.Key == taint.Key
                : t.Key == taint.Key && (t.Value ?? "") == (taint.Value ?? "")));
}
