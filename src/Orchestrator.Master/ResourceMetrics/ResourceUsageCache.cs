using System.Collections.Immutable;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.ResourceMetrics;

/// <summary>
/// The newest resource usage each node reported (<see cref="NodeMetricsReported"/>, through the NodeGateway), in memory
/// only, as metrics-server keeps the newest scrape: what the metrics API serves and the HorizontalPodAutoscaler reads.
/// One immutable map swapped on every report, so readers on any thread never lock. A node that stopped reporting for
/// <see cref="MaxAge"/> is forgotten (metrics-server drops what it cannot scrape).
/// </summary>
internal sealed class ResourceUsageCache(Func<DateTime>? clock = null)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(90);

    private readonly Func<DateTime> _clock = clock ?? (() => DateTime.UtcNow);
    private ImmutableDictionary<string, (NodeMetricsReported Report, DateTime Received)> _nodes =
        ImmutableDictionary<string, (NodeMetricsReported, DateTime)>.Empty.WithComparers(StringComparer.Ordinal);

    public void Report(NodeMetricsReported report) =>
        ImmutableInterlocked.Update(ref _nodes, nodes => nodes.SetItem(report.NodeName, (report, _clock())));

    public void Forget(string nodeName) => ImmutableInterlocked.Update(ref _nodes, nodes => nodes.Remove(nodeName));

    private IEnumerable<NodeMetricsReported> Fresh()
    {
        var now = _clock();
        return _nodes.Values.Where(n => now - n.Received <= MaxAge).Select(n => n.Report);
    }

    public NodeUsage? Node(string name) =>
        _nodes.TryGetValue(name, out var n) && _clock() - n.Received <= MaxAge ? n.Report.Node : null;

    public IReadOnlyDictionary<string, NodeUsage> Nodes() => Fresh().ToDictionary(r => r.NodeName, r => r.Node);

    /// <summary>Every pod's usage in <paramref name="ns"/> (all namespaces when null), by namespace and name; where two
    /// nodes report a pod of the same name (a pod deleted and made again elsewhere) the newer sample wins.</summary>
    public IReadOnlyDictionary<(string Namespace, string Name), PodUsage> Pods(string? ns = null)
    {
        var pods = new Dictionary<(string, string), PodUsage>();
        foreach (var report in Fresh())
        foreach (var pod in report.Pods)
        {
            if (ns is not null && pod.Namespace != ns) continue;
            var key = (pod.Namespace, pod.Name);
            if (!pods.TryGetValue(key, out var seen) || seen.Timestamp < pod.Timestamp) pods[key] = pod;
        }
        return pods;
    }

    public PodUsage? Pod(string ns, string name) => Pods(ns).TryGetValue((ns, name), out var pod) ? pod : null;
}
