using System.Collections.Frozen;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Orchestrator.Shared.Protocol;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// The node's kube-proxy for HTTP. Owns the YARP configuration (one catch-all route, one cluster per service port),
/// the map from listening socket to cluster, and the set of listeners. Each <see cref="Apply"/> swaps all three for a
/// new immutable snapshot: clusters first, so a newly opened listener never points at a cluster YARP does not know.
/// Requests are routed by <see cref="RouteByListenerAsync"/> (the connection's local IP:port picks the cluster) and
/// then balanced by YARP across the ready endpoints; a cluster without endpoints answers 503. Connections that are
/// not HTTP are forwarded at L4 by the <see cref="TcpForwarder"/> from the same snapshot. ClusterIPs become local
/// addresses of the pod bridge (<see cref="ClusterIpAddresses"/>) before their listeners open. It reads the node's
/// Services view (<see cref="Services.ServiceDirectory"/>), which calls <see cref="Apply"/> on every change.
/// </summary>
internal sealed class ServiceProxy
{
    public const string RouteId = "services";

    private readonly IPAddress _nodeAddress;
    private readonly InMemoryConfigProvider _yarp;
    private readonly Listeners _listeners;
    private readonly ILogger<ServiceProxy> _log;
    private readonly object _applyLock = new();
    private readonly ClusterIpAddresses _clusterIpAddresses;
    private readonly SharedListenSockets _sockets;
    private volatile FrozenDictionary<IPEndPoint, string> _clusterByListener = FrozenDictionary<IPEndPoint, string>.Empty;
    private volatile FrozenDictionary<IPEndPoint, TcpRoute> _tcpByListener = FrozenDictionary<IPEndPoint, TcpRoute>.Empty;
    private IReadOnlyList<string> _lastSkipped = [];

    public ServiceProxy(IPAddress nodeAddress, InMemoryConfigProvider yarp, Listeners listeners, ILogger<ServiceProxy> log,
        ClusterIpAddresses? clusterIpAddresses = null, SharedListenSockets? sockets = null)
    {
        _nodeAddress = nodeAddress;
        _yarp = yarp;
        _listeners = listeners;
        _log = log;
        _clusterIpAddresses = clusterIpAddresses ?? new ClusterIpAddresses(null, log);
        _sockets = sockets ?? new SharedListenSockets();
    }

    /// <summary>The L4 route of a listening socket, read by the <see cref="TcpForwarder"/> per connection.</summary>
    public TcpRoute? TcpRouteFor(IPEndPoint listener) => _tcpByListener.GetValueOrDefault(listener);

    /// <summary>The route every request matches; the listener middleware reassigns its cluster.</summary>
    public static IReadOnlyList<RouteConfig> Routes { get; } =
    [
        new RouteConfig { RouteId = RouteId, ClusterId = YarpConfigFromEndpoints.UnassignedClusterId, Match = new RouteMatch { Path = "/{**catch-all}" } },
    ];

    public static IReadOnlyList<ClusterConfig> InitialClusters { get; } =
        [new ClusterConfig { ClusterId = YarpConfigFromEndpoints.UnassignedClusterId }];

    public IReadOnlyDictionary<IPEndPoint, string> ClusterByListener => _clusterByListener;

    /// <summary>Replaces the proxy's configuration with the whole, newest set of Services and Endpoints; cheap and
    /// non-blocking (listeners open and close in the background).</summary>
    public void Apply(ServicesChanged services)
    {
        var plan = YarpConfigFromEndpoints.Build(services, _nodeAddress, _clusterIpAddresses.Enabled);
        lock (_applyLock)
        {
            // a ClusterIP listener can bind only once its address is local; one that could not be added waits
            var local = _clusterIpAddresses.Ensure(plan.ClusterIps);
            var listeners = plan.Listeners.Where(l => !plan.ClusterIps.Contains(l.EndPoint.Address) || local.Contains(l.EndPoint.Address)).ToList();
            plan = plan with { Listeners = listeners };
            _yarp.Update(Routes, plan.Clusters);
            _clusterByListener = plan.Listeners.ToFrozenDictionary(l => l.EndPoint, l => l.ClusterId);
            _tcpByListener = plan.Listeners.Where(l => plan.TcpRoutes.ContainsKey(l.ClusterId))
                .ToFrozenDictionary(l => l.EndPoint, l => plan.TcpRoutes[l.ClusterId]);
            var before = _listeners.Current;
            // before Kestrel binds: which of the sockets other node processes on this machine bind too
            _sockets.Shared = plan.Listeners.Where(l => l.Shared).Select(l => l.EndPoint).ToHashSet();
            if (_listeners.Replace(plan.Listeners.Select(l => l.EndPoint)))
            {
                foreach (var added in plan.Listeners.Where(l => !before.Contains(l.EndPoint)))
                    _log.LogInformation("Proxy listening on {EndPoint} for {Service} ({Cluster})", added.EndPoint, added.Service, added.ClusterId);
                foreach (var removed in before.Where(ep => !_clusterByListener.ContainsKey(ep)))
                    _log.LogInformation("Proxy closing {EndPoint}", removed);
            }
            foreach (var skip in plan.Skipped.Except(_lastSkipped)) _log.LogInformation("Proxy: {Skipped}", skip);
            _lastSkipped = plan.Skipped;
        }
        _log.LogDebug("Proxy configuration generation {Generation}: {Listeners} listeners, {Clusters} clusters",
            services.Generation, plan.Listeners.Count, plan.Clusters.Count - 1);
    }

    /// <summary>Proxy-pipeline middleware: the socket a request arrived on decides its service port's cluster.</summary>
    public async Task RouteByListenerAsync(HttpContext context, Func<Task> next)
    {
        var local = context.Connection.LocalIpAddress;
        if (local is { IsIPv4MappedToIPv6: true }) local = local.MapToIPv4();
        var lookup = context.RequestServices.GetService(typeof(IProxyStateLookup)) as IProxyStateLookup;
        if (local is null || lookup is null
            || !_clusterByListener.TryGetValue(new IPEndPoint(local, context.Connection.LocalPort), out var clusterId)
            || !lookup.TryGetCluster(clusterId, out var cluster))
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }
        context.ReassignProxyRequest(cluster);
        await next();
    }
}
