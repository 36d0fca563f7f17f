using k8s.Models;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling;

/// <summary>
/// The scheduler's view of where pods are (Kubernetes' scheduler cache): nodes, and the pods that hold room on each
/// (bound, or assumed while their binding is in flight), kept up to date change by change so a decision costs a
/// pass over the nodes rather than over every pod. A node's <see cref="NodeInfo"/> is rebuilt only when its pods
/// or the node change. Owned by one actor; not thread-safe.
/// </summary>
internal sealed class SchedulerCache
{
    private readonly Dictionary<string, V1Node> _nodes = new();
    private readonly Dictionary<string, Dictionary<string, V1Pod>> _podsByNode = new();
    private readonly Dictionary<string, string> _nodeOfPod = new(); // pod uid → node name
    private readonly Dictionary<string, NodeInfo> _infos = new();
    private List<string>? _sortedNames;

    public void Clear()
    {
        _nodes.Clear();
        _podsByNode.Clear();
        _nodeOfPod.Clear();
        _infos.Clear();
        _sortedNames = null;
    }

    public void SetNode(V1Node node)
    {
        var name = node.Metadata.Name;
        if (!_nodes.ContainsKey(name)) _sortedNames = null;
        _nodes[name] = node;
        _infos.Remove(name);
    }

    public void RemoveNode(string name)
    {
        if (_nodes.Remove(name)) _sortedNames = null;
        _infos.Remove(name);
    }

    /// <summary>Counts the pod on <paramref name="node"/> (replacing wherever it was counted before).</summary>
    public void SetPod(V1Pod pod, string node)
    {
        RemovePod(pod.Metadata.Uid);
        if (!_podsByNode.TryGetValue(node, out var pods)) _podsByNode[node] = pods = new Dictionary<string, V1Pod>();
        pods[pod.Metadata.Uid] = pod;
        _nodeOfPod[pod.Metadata.Uid] = node;
        _infos.Remove(node);
    }

    public void RemovePod(string uid)
    {
        if (!_nodeOfPod.Remove(uid, out var node)) return;
        _podsByNode[node].Remove(uid);
        _infos.Remove(node);
    }

    /// <summary>Every node with its pods, ordered by name.</summary>
    public IReadOnlyList<NodeInfo> NodeInfos()
    {
        _sortedNames ??= _nodes.Keys.Order(StringComparer.Ordinal).ToList();
        var infos = new List<NodeInfo>(_sortedNames.Count);
        foreach (var name in _sortedNames)
        {
            if (!_infos.TryGetValue(name, out var info))
                _infos[name] = info = new NodeInfo(_nodes[name],
                    _podsByNode.TryGetValue(name, out var pods) ? pods.Values.ToList() : []);
            infos.Add(info);
        }
        return infos;
    }
}
