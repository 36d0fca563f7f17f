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
    public const string NotReadyTaint = "node.kubernetes.io/not-ready";
    public const string UnreachableTaint = "node.kubernetes.io/unreachable";

    public string Name => "TaintToleration";

    public string? Filter(V1Pod pod, NodeInfo node)
    {
        foreach (var taint in node.Taints)
        {
            if (taint.Effect is not ("NoSchedule" or "NoExecute")) continue;
            if (!Tolerates(pod, taint)) return $"node(s) had untolerated taint {{{taint.Key}: {taint.Value}}}";
        }
        return null;
    }

    public static IEnumerable<V1Taint> Taints(V1Node node)
    {
        var ready = node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status;
        if (ready == "False") yield return new V1Taint { Key = NotReadyTaint, Effect = "NoSchedule" };
        else if (ready != "True") yield return new V1Taint { Key = UnreachableTaint, Effect = "NoSchedule" };
        foreach (var taint in node.Spec?.Taints ?? [])
            if (taint.Key is not (NotReadyTaint or UnreachableTaint)) yield return taint;
    }

    public static bool Tolerates(V1Pod pod, V1Taint taint) =>
        (pod.Spec?.Tolerations ?? []).Any(t =>
            (string.IsNullOrEmpty(t.Effect) || t.Effect == taint.Effect) &&
            (t.OperatorProperty == "Exists"
                ? string.IsNullOrEmpty(t.Key) || t.Key == taint.Key
                : t.Key == taint.Key && (t.Value ?? "") == (taint.Value ?? "")));
}
