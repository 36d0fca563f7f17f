using System.Collections.Frozen;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Proxy.Ingress;
using Orchestrator.Shared.Protocol;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.SessionAffinity;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// The node's kube-proxy. Owns the YARP configuration (one catch-all route, one cluster per service port), the map from
/// listening socket to cluster or L4 route, and the set of listeners. Each <see cref="Apply"/> swaps them all for a
/// new immutable snapshot: clusters first, so a newly opened listener never points at a cluster YARP does not know.
/// As kube-proxy, every service port is forwarded at L4, per connection: <see cref="TcpListeners"/> accept and the
/// <see cref="TcpForwarder"/> forwards (reset without a reachable endpoint, as kube-proxy's REJECT) — except ports
/// whose appProtocol says HTTP, which Kestrel serves: their requests are routed by <see cref="RouteByListenerAsync"/>
/// (the connection's local IP:port picks the cluster) and balanced per request by YARP across the ready endpoints; a
/// cluster without endpoints answers 503. ClusterIPs become local
/// addresses of the pod bridge (<see cref="ClusterIpAddresses"/>) before their listeners open. It reads the node's
/// Services view (<see cref="Services.ServiceDirectory"/>), which calls <see cref="Apply"/> on every change.
/// The ingress controller lives here too: requests on the ingress listeners (the node address at
/// <see cref="IngressSettings"/>' ports) are routed by host and path (<see cref="IngressRoutes"/>) to the backend service
/// port's cluster; the HTTPS one picks its certificate by SNI (<see cref="IngressCertificates"/>).
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
    private readonly TcpListeners _tcpListeners;
    private IProxyStateLookup? _lookup;
    private volatile FrozenDictionary<IPEndPoint, ServiceHealth> _healthByListener = FrozenDictionary<IPEndPoint, ServiceHealth>.Empty;
    private volatile FrozenDictionary<IPEndPoint, string> _clusterByListener = FrozenDictionary<IPEndPoint, string>.Empty;
    private volatile Routing _routing = Routing.Empty;
    private readonly ClientIpAffinity _affinity;
    private IReadOnlyList<string> _lastSkipped = [];
    private readonly IngressSettings _ingress;
    private volatile IngressRoutes _ingressRoutes = IngressRoutes.Empty;
    private readonly IPEndPoint? _ingressHttp;
    private readonly IPEndPoint? _ingressHttps;

    public ServiceProxy(IPAddress nodeAddress, InMemoryConfigProvider yarp, Listeners listeners, TcpListeners tcpListeners,
        ILogger<ServiceProxy> log, ClusterIpAddresses? clusterIpAddresses = null, SharedListenSockets? sockets = null,
        IngressSettings? ingress = null, ClientIpAffinity? affinity = null)
    {
        _affinity = affinity ?? new ClientIpAffinity();
        _tcpListeners = tcpListeners;
        _nodeAddress = nodeAddress;
        _ingress = ingress ?? IngressSettings.Disabled;
        _ingressHttp = _ingress.HttpPort > 0 ? new IPEndPoint(nodeAddress, _ingress.HttpPort) : null;
        _ingressHttps = _ingress.HttpsPort > 0 ? new IPEndPoint(nodeAddress, _ingress.HttpsPort) : null;
        Certificates = new IngressCertificates(log);
        _yarp = yarp;
        _listeners = listeners;
        _log = log;
        _clusterIpAddresses = clusterIpAddresses ?? new ClusterIpAddresses(null, log);
        _sockets = sockets ?? new SharedListenSockets();
    }

    /// <summary>What connections are routed by besides their listener's cluster: the L4 routes, the listeners whose
    /// cluster depends on the client's node (internalTrafficPolicy Local, zone hints) and the Nodes' pod ranges that tell
    /// it, and the cluster of locally originated connections on externalTrafficPolicy Local listeners.</summary>
    private sealed record Routing(FrozenDictionary<IPEndPoint, TcpRoute> TcpByListener, FrozenSet<IPEndPoint> ByClientNode,
        IReadOnlyDictionary<string, TcpRoute> TcpRoutes, ClientNodes ClientNodes, FrozenDictionary<IPEndPoint, string> LocalOrigin)
    {
        public static readonly Routing Empty = new(FrozenDictionary<IPEndPoint, TcpRoute>.Empty, FrozenSet<IPEndPoint>.Empty,
            new Dictionary<string, TcpRoute>(), ClientNodes.None, FrozenDictionary<IPEndPoint, string>.Empty);
    }

    /// <summary>The L4 route of a connection on a listening socket, read by the <see cref="TcpForwarder"/> per connection
    /// (null: the socket is no L4 service port now). internalTrafficPolicy Local: the route of the client's node's
    /// endpoints, one without backends (the connection is reset) when that node has none.</summary>
    public TcpRoute? TcpRouteFor(IPEndPoint listener, IPAddress? client = null)
    {
        var routing = _routing;
        if (!routing.TcpByListener.TryGetValue(listener, out var route)) return null;
        if (routing.LocalOrigin.TryGetValue(listener, out var cluster) && IsLocalOrigin(routing, client))
            return routing.TcpRoutes.TryGetValue(cluster, out var clusterWide) ? clusterWide : route;
        if (!routing.ByClientNode.Contains(listener)) return route;
        return ClientNode(routing, client) is { } node
               && routing.TcpRoutes.TryGetValue(YarpConfigFromEndpoints.NodeClusterId(route.ClusterId, node), out var local)
            ? local
            : route with { Backends = [] };
    }

    /// <summary>The node a client is on: the one whose pod range holds its address, else this node (the machine's own
    /// processes, as the host's traffic is its own kube-proxy's).</summary>
    private string? ClientNode(Routing routing, IPAddress? client) => routing.ClientNodes.NodeOf(client) ?? _ingress.NodeName;

    /// <summary>kube-proxy's local traffic detector for externalTrafficPolicy Local: a pod of the cluster (in a Node's pod
    /// range, as its default ClusterCIDR mode) or the machine itself (src-type LOCAL: loopback or an address of the machine).</summary>
    private bool IsLocalOrigin(Routing routing, IPAddress? client)
    {
        if (client is null) return false;
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        return routing.ClientNodes.NodeOf(client) is not null || IPAddress.IsLoopback(client) || _ingress.IsLocalAddress?.Invoke(client) == true;
    }

    /// <summary>The route every request matches; the listener middleware reassigns its cluster.</summary>
    public static IReadOnlyList<RouteConfig> Routes { get; } =
    [
        // the client's Host goes to the pod, as through kube-proxy's L4 path and every ingress controller
        new RouteConfig
        {
            RouteId = RouteId, ClusterId = YarpConfigFromEndpoints.UnassignedClusterId, Match = new RouteMatch { Path = "/{**catch-all}" },
            Transforms = [new Dictionary<string, string> { ["RequestHeaderOriginalHost"] = "true" }],
        },
    ];

    public static IReadOnlyList<ClusterConfig> InitialClusters { get; } =
        [new ClusterConfig { ClusterId = YarpConfigFromEndpoints.UnassignedClusterId }];

    public IReadOnlyDictionary<IPEndPoint, string> ClusterByListener => _clusterByListener;

    /// <summary>The certificates the ingress HTTPS listener serves (the hosting wires them into Kestrel).</summary>
    public IngressCertificates Certificates { get; }

    /// <summary>Whether requests on <paramref name="listener"/> are proxied (a service or ingress listener), not the node's own.</summary>
    public bool IsProxyListener(IPEndPoint listener) =>
        _clusterByListener.ContainsKey(listener) || _healthByListener.ContainsKey(listener) || listener.Equals(_ingressHttp) || listener.Equals(_ingressHttps);

    /// <summary>Replaces the proxy's configuration with the whole, newest set of Services and Endpoints; cheap and
    /// non-blocking (listeners open and close in the background).</summary>
    public void Apply(ServicesChanged services)
    {
        var plan = YarpConfigFromEndpoints.Build(services, _nodeAddress, _clusterIpAddresses.Enabled, _ingress.NodeName, _ingress.IsLocalAddress);
        var ingressRoutes = IngressRoutes.Build(services.Ingresses ?? [], services.Services);
        lock (_applyLock)
        {
            // a ClusterIP listener can bind only once its address is local; one that could not be added waits
            var local = _clusterIpAddresses.Ensure(plan.ClusterIps);
            var listeners = plan.Listeners.Where(l => !plan.ClusterIps.Contains(l.EndPoint.Address) || local.Contains(l.EndPoint.Address))
                .Where(l => !l.EndPoint.Equals(_ingressHttp) && !l.EndPoint.Equals(_ingressHttps)).ToList();
            plan = plan with { Listeners = listeners, Skipped = plan.Skipped.Concat(ingressRoutes.Skipped).ToList() };
            // clusters first, then the routes that name them: a request never picks a cluster YARP does not know
            _yarp.Update(Routes, plan.Clusters.Concat(IngressClusters(ingressRoutes, plan.Clusters)).ToList());
            Certificates.Update(ingressRoutes, services.TlsSecrets ?? []);
            _ingressRoutes = ingressRoutes;
            _clusterByListener = plan.Listeners.ToFrozenDictionary(l => l.EndPoint, l => l.ClusterId);
            _healthByListener = plan.HealthChecks.ToFrozenDictionary();
            // every port but the HTTP ones is accepted as bare sockets, not by Kestrel (closed ones first: a port that
            // moves to Kestrel is free before Kestrel's reload binds it)
            var l4 = plan.Listeners.Where(l => plan.TcpRoutes.TryGetValue(l.ClusterId, out var route) && route.Mode == ProxyMode.Tcp).ToList();
            _routing = new Routing(l4.ToFrozenDictionary(l => l.EndPoint, l => plan.TcpRoutes[l.ClusterId]),
                plan.Listeners.Where(l => l.ByClientNode).Select(l => l.EndPoint).ToFrozenSet(), plan.TcpRoutes, plan.ClientNodes,
                plan.Listeners.Where(l => l.LocalOriginClusterId is not null).ToFrozenDictionary(l => l.EndPoint, l => l.LocalOriginClusterId!));
            _affinity.Retain(plan.AffinityPorts);
            var before = _listeners.Current.Union(_tcpListeners.Current).ToHashSet();
            var l4Changed = _tcpListeners.Replace(l4.Select(l => (l.EndPoint, l.Shared)));
            var kestrel = plan.Listeners.Except(l4).ToList();
            // before Kestrel binds: which of the sockets other node processes on this machine bind too
            _sockets.Shared = kestrel.Where(l => l.Shared).Select(l => l.EndPoint).ToHashSet();
            var https = _ingressHttps is null ? [] : new[] { _ingressHttps };
            var http = kestrel.Select(l => l.EndPoint).Concat(plan.HealthChecks.Keys).Concat(_ingressHttp is null ? [] : [_ingressHttp]);
            if (_listeners.Replace(http, https) | l4Changed)
            {
                foreach (var added in plan.Listeners.Where(l => !before.Contains(l.EndPoint)))
                    _log.LogInformation("Proxy listening on {EndPoint} for {Service} ({Cluster})", added.EndPoint, added.Service, added.ClusterId);
                foreach (var (endPoint, health) in plan.HealthChecks.Where(h => !before.Contains(h.Key)))
                    _log.LogInformation("Proxy serving the health check of {Namespace}/{Service} on {EndPoint}", health.Namespace, health.Name, endPoint);
                foreach (var removed in before.Where(ep => !_clusterByListener.ContainsKey(ep) && !_healthByListener.ContainsKey(ep)))
                    _log.LogInformation("Proxy closing {EndPoint}", removed);
            }
            foreach (var skip in plan.Skipped.Except(_lastSkipped)) _log.LogInformation("Proxy: {Skipped}", skip);
            _lastSkipped = plan.Skipped;
        }
        _log.LogDebug("Proxy configuration generation {Generation}: {Listeners} listeners, {Clusters} clusters",
            services.Generation, plan.Listeners.Count, plan.Clusters.Count - 1);
    }

    /// <summary>A copy of a service port's cluster for each set of ingress options that changes how it is proxied
    /// (proxy-read-timeout, affinity cookie, backend-protocol other than HTTP), for the main and the canary backends.</summary>
    private static IEnumerable<ClusterConfig> IngressClusters(IngressRoutes routes, IReadOnlyList<ClusterConfig> clusters)
    {
        var byId = clusters.ToDictionary(c => c.ClusterId, StringComparer.Ordinal);
        return routes.All.Where(r => r.Options.NeedsOwnCluster)
            .SelectMany(r => new[] { r.ClusterId, r.Canary?.ClusterId }.OfType<string>().Select(id => (Base: id, r.Options)))
            .Where(v => byId.ContainsKey(v.Base))
            .DistinctBy(v => v.Options.ClusterIdFor(v.Base))
            .Select(v => IngressCluster(byId[v.Base], v.Options));
    }

    private static ClusterConfig IngressCluster(ClusterConfig service, IngressOptions options)
    {
        var request = service.HttpRequest ?? new ForwarderRequestConfig();
        if (options.ReadTimeout is { } timeout) request = request with { ActivityTimeout = timeout };
        // gRPC servers speak HTTP/2 only; in clear text that is h2c with prior knowledge, which needs the exact version
        // (over TLS, ALPN offers h2 alone)
        if (options.Grpc) request = request with { Version = System.Net.HttpVersion.Version20, VersionPolicy = System.Net.Http.HttpVersionPolicy.RequestVersionExact };
        return service with
        {
            ClusterId = options.ClusterIdFor(service.ClusterId),
            HttpRequest = request,
            // TLS to the pods without verifying their certificates, as ingress-nginx's default (proxy-ssl-verify off)
            Destinations = options.BackendTls
                ? service.Destinations?.ToDictionary(d => d.Key, d => d.Value with { Address = HttpsAddress(d.Value.Address) }, StringComparer.Ordinal)
                : service.Destinations,
            HttpClient = options.BackendTls ? (service.HttpClient ?? new HttpClientConfig()) with { DangerousAcceptAnyServerCertificate = true } : service.HttpClient,
            // the HTTP/1.1 probe of "/" means nothing to a gRPC or TLS server; passive checks still apply
            HealthCheck = (options.Grpc || options.BackendTls) && service.HealthCheck is { } health ? health with { Active = null } : service.HealthCheck,
            // HashCookie: the cookie names the destination by a hash of its id (the pod's address), the same on every node
            SessionAffinity = options.Affinity is { } cookie
                ? new SessionAffinityConfig
                {
                    Enabled = true, Policy = SessionAffinityConstants.Policies.HashCookie, FailurePolicy = SessionAffinityConstants.FailurePolicies.Redistribute,
                    AffinityKeyName = cookie.Name,
                    Cookie = new SessionAffinityCookieConfig { Path = cookie.Path, MaxAge = cookie.MaxAge, HttpOnly = true, IsEssential = true },
                }
                : service.SessionAffinity,
        };
    }

    private static string HttpsAddress(string address) =>
        address.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? "https://" + address["http://".Length..] : address;

    /// <summary>Proxy-pipeline middleware: the socket a request arrived on decides its service port's cluster.</summary>
    public async Task RouteByListenerAsync(HttpContext context, Func<Task> next)
    {
        var local = context.Connection.LocalIpAddress;
        if (local is { IsIPv4MappedToIPv6: true }) local = local.MapToIPv4();
        // a singleton: resolved once, not per request
        var lookup = _lookup ??= context.RequestServices.GetService(typeof(IProxyStateLookup)) as IProxyStateLookup;
        var listener = local is null ? null : new IPEndPoint(local, context.Connection.LocalPort);
        if (listener is not null && _healthByListener.TryGetValue(listener, out var health))
        {
            await AnswerHealthCheckAsync(context, health);
            return;
        }
        if (listener is not null && lookup is not null && IsIngress(listener, out var https))
        {
            await RouteIngressAsync(context, next, lookup, https);
            return;
        }
        var clusterId = listener is null ? null : _clusterByListener.GetValueOrDefault(listener);
        var routing = _routing;
        // externalTrafficPolicy Local: locally originated requests take the cluster-wide endpoints
        if (clusterId is not null && routing.LocalOrigin.TryGetValue(listener!, out var clusterWide) && IsLocalOrigin(routing, context.Connection.RemoteIpAddress))
            clusterId = clusterWide;
        // internalTrafficPolicy Local: the client's node's endpoints; that node without any answers as a port without endpoints
        // (zone hints: the client's node's zone's endpoints)
        else if (clusterId is not null && routing.ByClientNode.Contains(listener!))
        {
            var client = context.Connection.RemoteIpAddress;
            clusterId = ClientNode(routing, client is { IsIPv4MappedToIPv6: true } ? client.MapToIPv4() : client) is { } node
                ? YarpConfigFromEndpoints.NodeClusterId(clusterId, node)
                : null;
        }
        if (clusterId is null || lookup is null || !lookup.TryGetCluster(clusterId, out var cluster))
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }
        context.ReassignProxyRequest(cluster);
        await next();
    }

    /// <summary>Sets the affinity cookie on the response. YARP adds it by a response transform of the route's own
    /// cluster; an ingress request is reassigned to its backend's cluster, so the policy is called here instead (it
    /// leaves the response alone when the request already carried a valid cookie).</summary>
    private static Task Affinitize(HttpContext context, Yarp.ReverseProxy.Model.ClusterState cluster, SessionAffinityConfig affinity)
    {
        var proxied = context.GetReverseProxyFeature();
        if (proxied.ProxiedDestination is { } destination
            && context.RequestServices.GetServices<ISessionAffinityPolicy>().FirstOrDefault(p => p.Name == affinity.Policy) is { } policy)
            policy.AffinitizeResponse(context, cluster, affinity, destination);
        return Task.CompletedTask;
    }

    /// <summary>kube-proxy's answer on a healthCheckNodePort (any path): 200 while the service has a ready endpoint on
    /// this node, else 503, so an outside load balancer sends Local traffic only to nodes that can serve it.</summary>
    private static Task AnswerHealthCheckAsync(HttpContext context, ServiceHealth health)
    {
        context.Response.StatusCode = health.LocalEndpoints > 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "application/json";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        var body = $"{{\n\t\"service\": {{\n\t\t\"namespace\": {Quote(health.Namespace)},\n\t\t\"name\": {Quote(health.Name)}\n\t}},\n" +
                   $"\t\"localEndpoints\": {health.LocalEndpoints},\n\t\"serviceProxyHealthy\": true\n}}";
        return context.Response.WriteAsync(body);

        static string Quote(string value) => System.Text.Json.JsonSerializer.Serialize(value);
    }

    private bool IsIngress(IPEndPoint listener, out bool https)
    {
        https = listener.Equals(_ingressHttps);
        return https || listener.Equals(_ingressHttp);
    }

    /// <summary>An ingress request: 404 without a matching rule, 308 to HTTPS when its host has TLS (unless
    /// ssl-redirect is "false"), 503 for a backend that cannot be served, 413 over proxy-body-size; else the path is
    /// rewritten as rewrite-target asks and YARP forwards to the service port's cluster (WebSockets included).</summary>
    private async Task RouteIngressAsync(HttpContext context, Func<Task> next, IProxyStateLookup lookup, bool https)
    {
        var request = context.Request;
        var path = request.Path.HasValue ? request.Path.Value! : "/";
        var route = _ingressRoutes.Match(request.Host.Host, path);
        if (route is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync("default backend - 404\n");
            return;
        }
        if (!https && route.Tls && route.Options.SslRedirect && _ingressHttps is not null)
        {
            var port = _ingress.HttpsPort == 443 ? "" : $":{_ingress.HttpsPort}";
            context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
            context.Response.Headers.Location = $"https://{request.Host.Host}{port}{request.PathBase}{request.Path}{request.QueryString}";
            return;
        }
        var serviceCluster = IngressRoutes.ClusterFor(route, name => request.Headers[name].FirstOrDefault(), name => request.Cookies[name],
            Random.Shared.Next(100));
        var clusterId = serviceCluster is null ? null : route.Options.ClusterIdFor(serviceCluster);
        if (clusterId is null || !lookup.TryGetCluster(clusterId, out var cluster))
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }
        if (route.Options.MaxBodySize is { } max)
        {
            if (request.ContentLength > max)
            {
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                return;
            }
            if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                limit.MaxRequestBodySize = max;
        }
        if (route.Options.RewriteTarget is not null) request.Path = new PathString(IngressRoutes.Rewrite(route, path));
        context.ReassignProxyRequest(cluster);
        if (cluster.Model.Config.SessionAffinity is { Enabled: true } affinity) context.Response.OnStarting(() => Affinitize(context, cluster, affinity));
        await next();
    }
}
