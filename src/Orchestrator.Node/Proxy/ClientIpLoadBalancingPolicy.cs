using System.Globalization;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// Service <c>sessionAffinity: ClientIP</c> on the HTTP ports (YARP, per request): a request goes to the endpoint its
/// client address last went to while that one is available and the client was seen within the service's timeout
/// (<see cref="ClientIpAffinity"/>, shared with the L4 path); else to the next one round robin, which it is then held
/// to. The cluster's metadata names the service port and the timeout (<see cref="YarpConfigFromEndpoints"/>).
/// </summary>
internal sealed class ClientIpLoadBalancingPolicy(ClientIpAffinity affinity) : ILoadBalancingPolicy
{
    public const string PolicyName = "ClientIP";

    /// <summary>Cluster metadata: the service port whose affinity table the cluster uses.</summary>
    public const string PortMetadata = "orchestrator.io/affinity-port";

    /// <summary>Cluster metadata: the affinity timeout in seconds.</summary>
    public const string TimeoutMetadata = "orchestrator.io/affinity-timeout-seconds";

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        if (availableDestinations.Count == 0) return null;
        var client = context.Connection.RemoteIpAddress;
        // the service port's cluster the request was reassigned to (ServiceProxy.RouteByListenerAsync), not the route's
        var config = context.GetReverseProxyFeature().Cluster?.Config ?? cluster.Model.Config;
        var metadata = config.Metadata;
        var port = metadata?.GetValueOrDefault(PortMetadata) ?? config.ClusterId;
        var timeout = TimeSpan.FromSeconds(metadata?.GetValueOrDefault(TimeoutMetadata) is { } text
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? seconds : ClientIpAffinity.DefaultTimeoutSeconds);
        if (client is { IsIPv4MappedToIPv6: true }) client = client.MapToIPv4();
        if (client is not null && affinity.Lookup(port, client, timeout) is { } held)
            foreach (var destination in availableDestinations)
                if (destination.DestinationId == held)
                {
                    affinity.Remember(port, client, held, timeout); // a request restarts the timer, as a new connection does
                    return destination;
                }
        // in a stable order: YARP rebuilds the available list as health states change, in no set order
        var ordered = availableDestinations.OrderBy(d => d.DestinationId, StringComparer.Ordinal).ToList();
        var picked = ordered[(int)((uint)affinity.NextRoundRobin(port) % (uint)ordered.Count)];
        if (client is not null) affinity.Remember(port, client, picked.DestinationId, timeout);
        return picked;
    }
}
