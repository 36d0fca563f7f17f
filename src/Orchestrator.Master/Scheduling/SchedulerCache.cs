using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling;

/// <summary>
/// The scheduler's view of where pods are (Kubernetes' scheduler cache): nodes, and the pods that hold room on each
/// (bound, or assumed while their binding is in flight), kept up to date change by change so a decision costs a
/// pass over the nodes rather than over every pod. Each node's sums — requested resources (as requested and at the
/// scoring defaults), pods per owner, pods with affinity terms — are adjusted as a pod comes or goes, from facts
/// worked out once per pod; its allocatable, pod limit and taints once per node change. A node's
/// <see cref="NodeInfo"/> is made again only when its pods or the node changed, and the list of them in name order
/// is kept between decisions. Owned by one actor; not thread-safe.
/// </summary>
internal sealed class SchedulerCache
{
    private sealed record PodEntry(V1Pod Pod, string Node, Resources Requested, Resources NonZeroRequested, string? Owner, bool HasAffinity);

    private sealed class NodeEntry(V1Node node)
    {
        public V1Node Node = node;
        public readonly Dictionary<string, V1Pod> Pods = new();
        public readonly Dictionary<string, int> ByOwner = new(NodeFacts.Uids);
        public Resources Requested;
        public Resources NonZeroRequested;
        public int WithAffinity;
        public NodeFacts? NodeOnly; // allocatable, pod limit, taints: only the Node's
        public NodeInfo? Info;
    }

    private readonly Dictionary<string, NodeEntry> _nodes = new();
    private readonly Dictionary<string, PodEntry> _pods = new(); // by pod uid; also pods of nodes not (yet) known
    private readonly Dictionary<string, NodeEntry> _orphans = new(); // pods counted on a node the cache has not seen
    private readonly HashSet<string> _stale = new(); // nodes whose NodeInfo must be made again
    private List<NodeEntry>? _ordered;
    private NodeInfo[] _infos = [];
    private int _podsWithAffinity; // over every node: while none, no decision looks for them node by node
    // One string instance per owner uid (with the pods counted under it), shared by every node's counts: each decision
    // compares the pod's owner against the counts of hundreds of nodes, and equal uids read from separately decoded pods
    // are separate strings scattered over the heap (a cache miss per node to compare them).
    private readonly Dictionary<string, (string Uid, int Pods)> _ownerUids = new(NodeFacts.Uids);

    public int NodeCount => _nodes.Count;

    public void Clear()
    {
        _nodes.Clear();
        _pods.Clear();
        _orphans.Clear();
        _stale.Clear();
        _ordered = null;
        _podsWithAffinity = 0;
        _ownerUids.Clear();
    }

    public void SetNode(V1Node node)
    {
        var name = node.Metadata.Name;
        if (!_nodes.TryGetValue(name, out var entry))
        {
            // pods may have been counted on it before the node showed up
            if (!_orphans.Remove(name, out entry)) entry = new NodeEntry(node);
            _nodes[name] = entry;
            _ordered = null;
        }
        entry.Node = node;
        entry.NodeOnly = null;
        Touch(name, entry);
    }

    public void RemoveNode(string name)
    {
        if (!_nodes.Remove(name, out var entry)) return;
        _ordered = null;
        _stale.Remove(name);
        // its pods stay counted (they go when their deletion shows), as on a node that comes back
        if (entry.Pods.Count > 0)
        {
            entry.Info = null;
            _orphans[name] = entry;
        }
    }

    /// <summary>Counts the pod on <paramref name="node"/> (replacing wherever it was counted before).</summary>
    public void SetPod(V1Pod pod, string node)
    {
        // the owner taken before the pod's earlier entry lets go of it, so that its instance stays the one every node holds
        var facts = new PodEntry(pod, node, PodResources.Requests(pod), PodResources.Requests(pod, nonZero: true),
            OwnerReferences.ControllerOf(pod)?.Uid is { } uid ? Intern(uid) : null, NodeFacts.HasPodAffinity(pod));
        RemovePod(pod.Metadata.Uid);
        var entry = Entry(node);
        _pods[pod.Metadata.Uid] = facts;
        entry.Pods[pod.Metadata.Uid] = pod;
        entry.Requested += facts.Requested;
        entry.NonZeroRequested += facts.NonZeroRequested;
        if (facts.Owner is { } owner) entry.ByOwner[owner] = entry.ByOwner.GetValueOrDefault(owner) + 1;
        if (facts.HasAffinity)
        {
            entry.WithAffinity++;
            _podsWithAffinity++;
        }
        Touch(node, entry);
    }

    public void RemovePod(string uid)
    {
        if (!_pods.Remove(uid, out var facts)) return;
        var entry = Entry(facts.Node);
        entry.Pods.Remove(uid);
        entry.Requested = new Resources(entry.Requested.MilliCpu - facts.Requested.MilliCpu, entry.Requested.Memory - facts.Requested.Memory);
        entry.NonZeroRequested = new Resources(entry.NonZeroRequested.MilliCpu - facts.NonZeroRequested.MilliCpu,
            entry.NonZeroRequested.Memory - facts.NonZeroRequested.Memory);
        if (facts.Owner is { } owner)
        {
            Release(owner);
            if (entry.ByOwner.TryGetValue(owner, out var count))
            {
                if (count <= 1) entry.ByOwner.Remove(owner);
                else entry.ByOwner[owner] = count - 1;
            }
        }
        if (facts.HasAffinity)
        {
            entry.WithAffinity--;
            _podsWithAffinity--;
        }
        if (entry.Pods.Count == 0) _orphans.Remove(facts.Node);
        Touch(facts.Node, entry);
    }

    /// <summary>Every node with its pods, ordered by name: a snapshot, unchanged by later changes of the cache; with
    /// the nodes that hold pods with affinity terms (<see cref="NodeSnapshot.WithPodAffinity"/>).</summary>
    public NodeSnapshot NodeInfos()
    {
        var infos = (NodeInfo[])Current().Clone();
        return new NodeSnapshot(infos, _podsWithAffinity == 0 ? [] : Array.FindAll(infos, n => n.PodsWithAffinity.Count > 0));
    }

    /// <summary>The same as <see cref="NodeInfos"/> without copying the list: valid only until the cache next changes,
    /// for a caller that decides and lets go of it before (the scheduler's decision: a copy of 1,000 nodes per pod was
    /// 8 KB of garbage per decision at 1,000 nodes).</summary>
    public NodeSnapshot CurrentNodeInfos()
    {
        var infos = Current();
        return new NodeSnapshot(infos, _podsWithAffinity == 0 ? [] : Array.FindAll(infos, n => n.PodsWithAffinity.Count > 0));
    }

    private NodeInfo[] Current()
    {
        if (_ordered is null)
        {
            _ordered = _nodes.Values.OrderBy(e => e.Node.Metadata.Name, StringComparer.Ordinal).ToList();
            _infos = _ordered.Select(Info).ToArray();
            _stale.Clear();
        }
        else if (_stale.Count > 0)
        {
            for (var i = 0; i < _ordered.Count; i++)
                if (_ordered[i].Info is null) _infos[i] = Info(_ordered[i]);
            _stale.Clear();
        }
        return _infos;
    }

    /// <summary>The cache's instance of this owner uid (one per owner while it has pods counted).</summary>
    private string Intern(string uid)
    {
        ref var known = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_ownerUids, uid, out var exists);
        known = exists ? (known.Uid, known.Pods + 1) : (uid, 1);
        return known.Uid;
    }

    private void Release(string uid)
    {
        if (!_ownerUids.TryGetValue(uid, out var known)) return;
        if (known.Pods <= 1) _ownerUids.Remove(uid);
        else _ownerUids[uid] = (known.Uid, known.Pods - 1);
    }

    /// <summary>The owner uids the cache holds one instance of (for tests).</summary>
    internal int OwnerUidCount => _ownerUids.Count;

    private NodeEntry Entry(string node)
    {
        if (_nodes.TryGetValue(node, out var entry)) return entry;
        if (!_orphans.TryGetValue(node, out entry))
            _orphans[node] = entry = new NodeEntry(new V1Node { Metadata = new V1ObjectMeta { Name = node } });
        return entry;
    }

    private void Touch(string name, NodeEntry entry)
    {
        entry.Info = null;
        if (_nodes.ContainsKey(name)) _stale.Add(name);
    }

    private static NodeInfo Info(NodeEntry entry)
    {
        if (entry.Info is not null) return entry.Info;
        var node = entry.NodeOnly ??= new NodeFacts(default, default, OwnerCounts.None, [],
            PodResources.Allocatable(entry.Node), PodResources.MaxPods(entry.Node), NodeTaints.Of(entry.Node).ToList(),
            entry.Node.Spec?.Unschedulable == true);
        var pods = entry.Pods.Values.ToList();
        return entry.Info = new NodeInfo(entry.Node, pods, node with
        {
            Requested = entry.Requested,
            NonZeroRequested = entry.NonZeroRequested,
            ByOwner = OwnerCounts.From(entry.ByOwner),
            WithAffinity = entry.WithAffinity == 0 ? [] : pods.Where(NodeFacts.HasPodAffinity).ToList(),
        });
    }
}
