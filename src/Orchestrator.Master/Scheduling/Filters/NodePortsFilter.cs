using k8s.Models;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Filters;

/// <summary>Every hostPort the pod asks for must be free on the node: no other pod there uses the same port and
/// protocol on an overlapping host IP (0.0.0.0 overlaps all) — Kubernetes' NodePorts plugin.</summary>
internal sealed class NodePortsFilter : IClusterWideFilter
{
    public const string Reason = "node(s) didn't have free ports for the requested pod ports";

    public string Name => "NodePorts";

    public string? Filter(V1Pod pod, NodeInfo node) => Prepare(pod, [node]).Filter(pod, node);

    /// <summary>The pod's host ports are listed once for all the nodes of a decision (most pods have none).</summary>
    public ISchedulingFilter Prepare(V1Pod pod, IReadOnlyList<NodeInfo> nodes)
    {
        var wanted = HostPorts(pod).ToList();
        return wanted.Count == 0 ? PreparedFilter.Skip : new PreparedFilter(Name, node => Free(pod, wanted, node));
    }

    private static string? Free(V1Pod pod, List<(string Ip, string Protocol, int Port)> wanted, NodeInfo node)
    {
        var used = node.Pods.Where(p => p.Metadata.Uid != pod.Metadata.Uid).SelectMany(HostPorts).ToList();
        return wanted.Any(w => used.Any(u => Conflicts(w, u))) ? Reason : null;
    }

    public static IEnumerable<(string Ip, string Protocol, int Port)> HostPorts(V1Pod pod) =>
        (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? [])
        .SelectMany(c => c.Ports ?? [])
        .Where(p => p.HostPort is > 0)
        .Select(p => (string.IsNullOrEmpty(p.HostIP) ? "0.0.0.0" : p.HostIP, p.Protocol ?? "TCP", p.HostPort!.Value));

    private static bool Conflicts((string Ip, string Protocol, int Port) a, (string Ip, string Protocol, int Port) b) =>
        a.Port == b.Port && a.Protocol == b.Protocol && (a.Ip == b.Ip || a.Ip == "0.0.0.0" || b.Ip == "0.0.0.0");
}
