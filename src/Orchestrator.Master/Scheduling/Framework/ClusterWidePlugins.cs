using k8s.Models;
using Orchestrator.Master.ControlLoop;

namespace Orchestrator.Master.Scheduling.Framework;

/// <summary>A filter that judges a node against the pods of every node (inter-pod affinity, topology spread): it
/// looks at the whole cluster once per pod (Kubernetes' PreFilter state) and hands back the filter for that pod.</summary>
internal interface IClusterWideFilter : ISchedulingFilter
{
    ISchedulingFilter Prepare(V1Pod pod, IReadOnlyList<NodeInfo> nodes);
}

/// <summary>The same for a scorer (Kubernetes' PreScore state), given every node, not only the feasible ones.</summary>
internal interface IClusterWideScorer : ISchedulingScorer
{
    ISchedulingScorer Prepare(V1Pod pod, IReadOnlyList<NodeInfo> nodes);
}

/// <summary>Namespaces' labels, for the namespaceSelector of pod affinity terms.</summary>
internal interface INamespaceLabels
{
    /// <summary>Null when the namespace is unknown.</summary>
    IDictionary<string, string>? LabelsOf(string @namespace);
}

/// <summary>Namespaces' labels from the scheduler's informer cache.</summary>
internal sealed class CachedNamespaces(ObjectCache cache) : INamespaceLabels
{
    public IDictionary<string, string>? LabelsOf(string @namespace) => cache.Get<V1Namespace>("namespaces", null, @namespace)?.Metadata.Labels;
}

internal sealed class NoNamespaceLabels : INamespaceLabels
{
    public static readonly NoNamespaceLabels Instance = new();

    public IDictionary<string, string>? LabelsOf(string @namespace) => null;
}

/// <summary>A filter or scorer prepared for one pod by a function.</summary>
internal sealed class PreparedFilter(string name, Func<NodeInfo, string?> filter) : ISchedulingFilter
{
    public string Name => name;

    public string? Filter(V1Pod pod, NodeInfo node) => filter(node);
}

internal sealed class PreparedScorer(string name, int weight, Func<IReadOnlyList<NodeInfo>, IReadOnlyList<int>> score) : ISchedulingScorer
{
    public string Name => name;

    public int Weight => weight;

    public IReadOnlyList<int> Score(V1Pod pod, IReadOnlyList<NodeInfo> feasible) => score(feasible);
}
