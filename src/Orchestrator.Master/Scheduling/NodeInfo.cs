using k8s.Models;

namespace Orchestrator.Master.Scheduling;

/// <summary>A node as the scheduler sees it for one decision: the Node and the pods that hold room on it
/// (bound and not finished, including pods this scheduler has bound but not yet seen back). Immutable.</summary>
public sealed record NodeInfo(V1Node Node, IReadOnlyList<V1Pod> Pods)
{
    public string Name => Node.Metadata.Name;
}

/// <summary>A predicate a node must pass to run a pod (Kubernetes' Filter extension point). One class per predicate.</summary>
public interface ISchedulingFilter
{
    string Name { get; }

    /// <summary>Null when the pod fits; otherwise Kubernetes' reason text, e.g. "node(s) were unschedulable".</summary>
    string? Filter(V1Pod pod, NodeInfo node);
}

/// <summary>A preference among feasible nodes (Kubernetes' Score extension point): 0 (worst) to 100 (best).</summary>
public interface ISchedulingScorer
{
    string Name { get; }

    int Weight => 1;

    int Score(V1Pod pod, NodeInfo node, IReadOnlyList<NodeInfo> feasible);
}
