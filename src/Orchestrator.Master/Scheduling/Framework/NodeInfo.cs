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
    private OwnerCounts? _byOwner;
    private IReadOnlyList<V1Pod>? _withAffinity;
    private IReadOnlyList<V1Taint>? _taints;
    private bool? _unschedulable;

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
        _unschedulable = facts.Unschedulable;
    }

    /// <summary>The node's name, read once when the NodeInfo is made (while the Node is in the CPU's cache): a decision
    /// compares the names of the best-scoring nodes, and the Node and its metadata lie elsewhere on the heap.</summary>
    public string Name { get; } = Node.Metadata?.Name!;

    /// <summary>The sum of the requests of the pods on the node (computed once).</summary>
    public Resources Requested => _requested ??= Pods.Aggregate(new Resources(0, 0), (sum, p) => sum + PodResources.Requests(p));

    public Resources Allocatable => _allocatable ??= PodResources.Allocatable(Node);

    public int MaxPods => _maxPods ??= PodResources.MaxPods(Node);

    /// <summary>spec.unschedulable (cordoned); read here, not through the Node, because every decision asks it of
    /// every node it filters.</summary>
    public bool Unschedulable => _unschedulable ??= Node.Spec?.Unschedulable == true;

    /// <summary>The taints a pod must tolerate here, the Ready condition's included (<see cref="NodeTaints.Of"/>).</summary>
    public IReadOnlyList<V1Taint> Taints => _taints ??= NodeTaints.Of(Node).ToList();

    /// <summary>How many of the node's pods the controller with this uid owns (counted once per NodeInfo).</summary>
    public int CountOwnedBy(string ownerUid) => Owners.Of(ownerUid, NodeFacts.UidHash(ownerUid));

    /// <summary>The node's pods counted per controller uid (counted once per NodeInfo).</summary>
    public OwnerCounts Owners => _byOwner ??= OwnerCounts.Of(Pods);

    /// <summary>The node's pods with pod affinity or anti-affinity terms (Kubernetes' PodsWithAffinity), found once.</summary>
    public IReadOnlyList<V1Pod> PodsWithAffinity => _withAffinity ??= Pods.Where(NodeFacts.HasPodAffinity).ToList();

    /// <summary>The same, counting pods without requests at Kubernetes' non-zero defaults (for scoring).</summary>
    public Resources NonZeroRequested =>
        _nonZeroRequested ??= Pods.Aggregate(new Resources(0, 0), (sum, p) => sum + PodResources.Requests(p, nonZero: true));
}

/// <summary>A node's taints as the scheduler reads them: a node whose Ready condition is False or Unknown carries
/// node.kubernetes.io/not-ready or /unreachable:NoSchedule from the moment its condition says so, not only once the node
/// lifecycle controller has written the taint (and a stored one outlived by a Ready condition does not count); every
/// other stored taint, the controller's NoExecute ones included, counts as written.</summary>
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
            if (taint.Key is not (NotReady or Unreachable) || taint.Effect != "NoSchedule") yield return taint;
    }
}

/// <summary>What a <see cref="NodeInfo"/> sums over its node and pods, handed in precomputed.</summary>
internal sealed record NodeFacts(Resources Requested, Resources NonZeroRequested, OwnerCounts ByOwner,
    IReadOnlyList<V1Pod> WithAffinity, Resources Allocatable, int MaxPods, IReadOnlyList<V1Taint> Taints, bool Unschedulable)
{
    public static bool HasPodAffinity(V1Pod pod) => pod.Spec?.Affinity is { } a && (a.PodAffinity is not null || a.PodAntiAffinity is not null);

    /// <summary>Compares owner uids; hashes only their last characters (uids are random, and the owner's count is
    /// looked up on every feasible node for every pod, where hashing the whole uid showed in profiles).</summary>
    public static readonly IEqualityComparer<string> Uids = new UidComparer();

    /// <summary>The hash of <see cref="Uids"/>: of the uid's length and last 8 characters.</summary>
    public static int UidHash(string uid)
    {
        var hash = uid.Length;
        for (var i = Math.Max(0, uid.Length - 8); i < uid.Length; i++) hash = hash * 31 + uid[i];
        return hash;
    }

    private sealed class UidComparer : IEqualityComparer<string>
    {
        public bool Equals(string? a, string? b) => string.Equals(a, b, StringComparison.Ordinal);

        public int GetHashCode(string uid) => UidHash(uid);
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

/// <summary>
/// A node's pods counted per controller uid, immutable. The owner spread scorer asks it on every feasible node for every
/// pod (420 nodes a pod at 1,000 nodes), where a dictionary lookup through a comparer was a third of the decision in
/// profiles; a node holds pods of few owners, so it is parallel arrays searched by the uid's hash (<see
/// cref="NodeFacts.UidHash"/>, computed once per decision by the caller), the uid compared only where the hash matches.
/// </summary>
internal sealed class OwnerCounts
{
    public static readonly OwnerCounts None = new([], [], []);

    private readonly int[] _hashes;
    private readonly string[] _owners;
    private readonly int[] _counts;

    private OwnerCounts(int[] hashes, string[] owners, int[] counts) => (_hashes, _owners, _counts) = (hashes, owners, counts);

    public int Count => _owners.Length;

    /// <summary>The owner uids counted (for tests).</summary>
    internal IReadOnlyList<string> Uids => _owners;

    /// <summary>The pods of the owner with this uid; <paramref name="hash"/> is <see cref="NodeFacts.UidHash"/> of it.</summary>
    public int Of(string owner, int hash)
    {
        var hashes = _hashes.AsSpan();
        for (int start = 0, i; (i = hashes[start..].IndexOf(hash)) >= 0; start += i + 1)
            if (string.Equals(_owners[start + i], owner, StringComparison.Ordinal)) return _counts[start + i];
        return 0;
    }

    /// <summary>From counts per uid (those of 0 or less left out).</summary>
    public static OwnerCounts From(IReadOnlyDictionary<string, int> byOwner)
    {
        if (byOwner.Count == 0) return None;
        var (hashes, owners, counts) = (new List<int>(byOwner.Count), new List<string>(byOwner.Count), new List<int>(byOwner.Count));
        foreach (var (owner, count) in byOwner)
        {
            if (count <= 0) continue;
            hashes.Add(NodeFacts.UidHash(owner));
            owners.Add(owner);
            counts.Add(count);
        }
        return new OwnerCounts(hashes.ToArray(), owners.ToArray(), counts.ToArray());
    }

    /// <summary>Counts the pods' controllers.</summary>
    public static OwnerCounts Of(IEnumerable<V1Pod> pods) => From(NodeFacts.CountByOwner(pods));
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

/// <summary>A scorer that writes its scores into the decision's buffer instead of a new array per pod.</summary>
internal interface ISchedulingScorerInto : ISchedulingScorer
{
    /// <summary>As <see cref="ISchedulingScorer.Score"/>, into <paramref name="scores"/> (one per feasible node).</summary>
    void Score(V1Pod pod, IReadOnlyList<NodeInfo> feasible, Span<int> scores);

    IReadOnlyList<int> ISchedulingScorer.Score(V1Pod pod, IReadOnlyList<NodeInfo> feasible)
    {
        var scores = new int[feasible.Count];
        Score(pod, feasible, scores);
        return scores;
    }
}
