using k8s.Models;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Filters;

/// <summary>Cordoned nodes (spec.unschedulable) take no new pods unless the pod tolerates
/// node.kubernetes.io/unschedulable:NoSchedule (Kubernetes' NodeUnschedulable plugin).</summary>
internal sealed class NodeUnschedulableFilter : ISchedulingFilter
{
    public const string Reason = "node(s) were unschedulable";

    public string Name => "NodeUnschedulable";

    public string? Filter(V1Pod pod, NodeInfo node)
    {
        if (!node.Unschedulable) return null;
        var taint = new V1Taint { Key = "node.kubernetes.io/unschedulable", Effect = "NoSchedule" };
        return TaintTolerationFilter.Tolerates(pod, taint) ? null : Reason;
    }
}
