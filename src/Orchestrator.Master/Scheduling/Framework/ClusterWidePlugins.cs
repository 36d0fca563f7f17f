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

/// <summary>A filter that can tell from the pod alone that it passes every node (Kubernetes' PreFilter returning Skip:
/// no node selector, no host ports, no claims …); the decision then does not run it node by node.</summary>
internal interface ISkippableFilter : ISchedulingFilter
{
    bool Skips(V1Pod pod);
}

/// <summary>A cluster's nodes as the scheduler cache hands them out, in name order (ordinal), with the ones holding pods
/// with affinity terms (Kubernetes' HavePodsWithAffinityNodeInfoList), so that a pod without terms of its own looks at
/// those alone.</summary>
internal sealed class NodeSnapshot(NodeInfo[] nodes, IReadOnlyList<NodeInfo> withPodAffinity) : IReadOnlyList<NodeInfo>
{
    public NodeInfo this[int index] => nodes[index];

    /// <summary>The nodes by name (ordinal): a node's index orders it as its name does.</summary>
    public ReadOnlySpan<NodeInfo> ByName => nodes;

    public int Count => nodes.Length;

    public IReadOnlyList<NodeInfo> WithPodAffinity => withPodAffinity;

    /// <summary>The nodes that may hold pods with affinity terms: the snapshot's list, else all of them.</summary>
    public static IReadOnlyList<NodeInfo> MayHavePodsWithAffinity(IReadOnlyList<NodeInfo> nodes) =>
        nodes is NodeSnapshot snapshot ? snapshot.WithPodAffinity : nodes;

    public IEnumerator<NodeInfo> GetEnumerator() => ((IEnumerable<NodeInfo>)nodes).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
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
    /// <summary>What a cluster-wide filter prepares for a pod it cannot refuse anywhere (PreFilter's Skip).</summary>
    public static readonly PreparedFilter Skip = new("Skip", _ => null);

    public string Name => name;

    public string? Filter(V1Pod pod, NodeInfo node) => filter(node);
}

internal sealed class PreparedScorer(string name, int weight, Func<IReadOnlyList<NodeInfo>, IReadOnlyList<int>> score) : ISchedulingScorer
{
    /// <summary>What a cluster-wide scorer prepares for a pod it scores alike on every node (PreScore's Skip): 0
    /// everywhere, which moves no node above another, so a decision leaves it out.</summary>
    public static readonly PreparedScorer Skip = new("Skip", 0, feasible => new int[feasible.Count]);

    public string Name => name;

    public int Weight => weight;

    public IReadOnlyList<int> Score(V1Pod pod, IReadOnlyList<NodeInfo> feasible) => score(feasible);
}
