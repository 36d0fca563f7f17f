using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// Service <c>sessionAffinity: ClientIP</c>: the same client address goes to the same endpoint while the set of
/// endpoints stays the same (kube-proxy keeps an affinity table with a timeout; a stable hash is the small version).
/// </summary>
internal sealed class ClientIpLoadBalancingPolicy : ILoadBalancingPolicy
{
    public const string PolicyName = "ClientIP";

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        if (availableDestinations.Count == 0) return null;
        var client = context.Connection.RemoteIpAddress?.ToString() ?? "";
        var ordered = availableDestinations.OrderBy(d => d.DestinationId, StringComparer.Ordinal).ToList();
        var hash = 17u;
        foreach (var ch in client) hash = unchecked(hash * 31 + ch);
        return ordered[(int)(hash % (uint)ordered.Count)];
    }
}
