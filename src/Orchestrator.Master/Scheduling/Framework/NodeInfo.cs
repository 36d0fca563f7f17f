using k8s.Models;
using Orchestrator.Master.ControlLoop;

namespace Orchestrator.Master.Scheduling.Framework;

/// <summary>A node as the scheduler sees it for one decision: the Node and the pods that hold room on it
/// (bound and not finished, including pods this scheduler has bound but not yet seen back). Immutable. The sums and
/// counts are computed once when first asked, or handed in already summed by the <see cref="SchedulerCache"/>, which
/// keeps them up to date pod by pod (<see cref="NodeFacts"/>).</summary>
internal sealed record NodeInfo(V1Node Node, IReadOnlyList<V1Pod> Pods)
{
    private Resources? _requested;
    private Resources? _nonZeroRequested;
    private Resources? _allocatable;
    private int? _maxPods;
    private IReadOnlyDictionary<string, int>? _byOwner;
    private IReadOnlyList<V1Pod>? _withAffinity;
    private IReadOnlyList<V1Taint>? _taints;

    /// <summary>A node whose pods' facts are summed already (the scheduler cache's incremental view).</summary>
    public NodeInfo(V1Node node, IReadOnlyList<V1Pod> pods, NodeFacts facts) : this(node, pods)
    {
        _requested = facts.Requested;
        _nonZeroRequested = facts.NonZeroRequested;
        _byOwner = facts.ByOwner;
        _withAffinity = facts.WithAffinity;
        _allocatable = facts.Allocatable;
        _maxPods = facts.MaxPods;
        _taints = facts.Taints;
    }

    public string Name => Node.Metadata.Name;

    /// <summary>The sum of the requests of the pods on the node (computed once).</summary>
    public Resources Requested => _requested ??= Pods.Aggregate(new Resources(0, 0), (sum, p) => sum + PodResources.Requests(p));

    public Resources Allocatable => _allocatable ??= PodResources.Allocatable(Node);

    public int MaxPods => _maxPods ??= PodResources.MaxPods(Node);

    /// <summary>The taints a pod must tolerate here, the Ready condition's included (<see cref="NodeTaints.Of"/>).</summary>
    public IReadOnlyList<V1Taint> Taints => _taints ??= NodeTaints.Of(Node).ToList();

    /// <summary>How many of the node's pods the controller with this uid owns (counted once per NodeInfo).</summary>
    public int CountOwnedBy(string ownerUid)
    {
        _byOwner ??= NodeFacts.CountByOwner(Pods);
        return _byOwner.GetValueOrDefault(ownerUid);
    }

    /// <summary>The node's pods with pod affinity or anti-affinity terms (Kubernetes' PodsWithAffinity), found once.</summary>
    public IReadOnlyList<V1Pod> PodsWithAffinity => _withAffinity ??= Pods.Where(NodeFacts.HasPodAffinity).ToList();

    /// <summary>The same, counting pods without requests at Kubernetes' non-zero defaults (for scoring).</summary>
    public Resources NonZeroRequested =>
        _nonZeroRequested ??= Pods.Aggregate(new Resources(0, 0), (sum, p) => sum + PodResources.Requests(p, nonZero: true));
}

/// <summary>A node's taints as the scheduler reads them: a node whose Ready condition is False or Unknown carries
/// node.kubernetes.io/not-ready or /unreachable, as the node lifecycle controller would taint it.</summary>
internal static class NodeTaints
{
    public const string NotReady = "node.kubernetes.io/not-ready";
    public const string Unreachable = "node.kubernetes.io/unreachable";

    public static IEnumerable<V1Taint> Of(V1Node node)
    {
        var ready = node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status;
        if (ready == "False") yield return new V1Taint { Key = NotReady, Effect = "NoSchedule" };
        else if (ready != "True") yield return new V1Taint { Key = Unreachable, Effect = "NoSchedule" };
        foreach (var taint in node.Spec?.Taints ?? [])
            if (taint.Key is not (NotReady or Unreachable)) yield return taint;
    }
}

/// <summary>What a <see cref="NodeInfo"/> sums over its node and pods, handed in precomputed.</summary>
internal sealed record NodeFacts(Resources Requested, Resources NonZeroRequested, IReadOnlyDictionary<string, int> ByOwner,
    IReadOnlyList<V1Pod> WithAffinity, Resources Allocatable, int MaxPods, IReadOnlyList<V1Taint> Taints)
{
    public static bool HasPodAffinity(V1Pod pod) => pod.Spec?.Affinity is { } a && (a.PodAffinity is not null || a.PodAntiAffinity is not null);

    /// <summary>Compares owner uids; hashes only their last characters (uids are random, and the owner's count is
    /// looked up on every feasible node for every pod, where hashing the whole uid showed in profiles).</summary>
    public static readonly IEqualityComparer<string> Uids = new UidComparer();

    private sealed class UidComparer : IEqualityComparer<string>
    {
        public bool Equals(string? a, string? b) => string.Equals(a, b, StringComparison.Ordinal);

        public int GetHashCode(string uid)
        {
            var hash = uid.Length;
            for (var i = Math.Max(0, uid.Length - 8); i < uid.Length; i++) hash = hash * 31 + uid[i];
            return hash;
        }
    }

    public static Dictionary<string, int> CountByOwner(IEnumerable<V1Pod> pods)
    {
        var byOwner = new Dictionary<string, int>(Uids);
        foreach (var pod in pods)
            if (OwnerReferences.ControllerOf(pod)?.Uid is { } uid)
                byOwner[uid] = byOwner.GetValueOrDefault(uid) + 1;
        return byOwner;
    }
}

/// <summary>A predicate a node must pass to run a pod (Kubernetes' Filter extension point). One class per predicate.</summary>
internal interface ISchedulingFilter
{
    string Name { get; }

    /// <summary>Null when the pod fits; otherwise Kubernetes' reason text, e.g. "node(s) were unschedulable".</summary>
    string? Filter(V1Pod pod, NodeInfo node);
}

/// <summary>A preference among feasible nodes (Kubernetes' Score extension point): 0 (worst) to 100 (best).</summary>
internal interface ISchedulingScorer
{
    string Name { get; }

    int Weight => 1;

    /// <summary>One score per feasible node, in the same order; all nodes at once so a scorer that normalises
    /// against the best node does it in one pass (a decision stays linear in the number of nodes).</summary>
    IReadOnlyList<int> Score(V1Pod pod, IReadOnlyList<NodeInfo> feasible);
}
