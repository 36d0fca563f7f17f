using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Orchestrator.Node.Services;
using Orchestrator.Shared.Protocol;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Orchestrator.Node.Proxy;

/// <summary>One socket the proxy listens on, and the YARP cluster (one service port) its requests go to. Shared
/// sockets (ClusterIPs, loopback externalIPs) are served by every node on the machine (<see cref="SharedListenSockets"/>).
/// <paramref name="ByClientNode"/>: internalTrafficPolicy Local — each connection goes to the cluster of its client's
/// node (<see cref="YarpConfigFromEndpoints.NodeClusterId"/>), none when that node has no endpoint; or zone hints in use —
/// the cluster of its client's node's zone. <paramref name="LocalOriginClusterId"/>: externalTrafficPolicy Local — the
/// cluster of connections that originate on the machine or in a pod (kube-proxy's local traffic detector).</summary>
internal sealed record ProxyListener(IPEndPoint EndPoint, string ClusterId, string Service, bool Shared = false, bool ByClientNode = false,
    string? LocalOriginClusterId = null);

/// <summary>An immutable snapshot of the proxy's configuration for one ServicesChanged.</summary>
internal sealed record ProxyPlan(IReadOnlyList<ProxyListener> Listeners, IReadOnlyList<ClusterConfig> Clusters, IReadOnlyList<string> Skipped)
{
    /// <summary>The L4 view of each cluster (service port), by cluster id.</summary>
    public IReadOnlyDictionary<string, TcpRoute> TcpRoutes { get; init; } = new Dictionary<string, TcpRoute>();

    /// <summary>The ClusterIPs the listeners use: they must be local addresses before the listeners bind.</summary>
    public IReadOnlySet<IPAddress> ClusterIps { get; init; } = new HashSet<IPAddress>();

    /// <summary>kube-proxy's health check servers of externalTrafficPolicy Local services, by socket (the node address at
    /// the service's healthCheckNodePort).</summary>
    public IReadOnlyDictionary<IPEndPoint, ServiceHealth> HealthChecks { get; init; } = new Dictionary<IPEndPoint, ServiceHealth>();

    /// <summary>Which node a client is on, by the Nodes' pod ranges (internalTrafficPolicy Local).</summary>
    public ClientNodes ClientNodes { get; init; } = ClientNodes.None;

    /// <summary>The service ports with ClientIP affinity (their <see cref="ClientIpAffinity"/> tables are kept).</summary>
    public IReadOnlySet<string> AffinityPorts { get; init; } = new HashSet<string>();
}

/// <summary>What a healthCheckNodePort answers about its service: how many of its ready endpoints are on this node.</summary>
internal sealed record ServiceHealth(string Namespace, string Name, int LocalEndpoints);

/// <summary>
/// Turns Services and EndpointSlices into listeners and YARP clusters, like kube-proxy turns them into rules:
/// a listener on the node address at each nodePort (NodePort and LoadBalancer services), on each loopback
/// externalIP at the service port and (when <c>clusterIps</c>) on the ClusterIP at the service port (these two shared
/// with the other nodes of the machine); one cluster per
/// service port whose destinations are its backends merged from the Service's slices (<see cref="ServiceEndpoints"/>:
/// ready ones, else serving-and-terminating ones), with
/// passive health checks (and active ones for HTTP ports), which serves the HTTP ports and Ingress backends; and the
/// same backends as a <see cref="TcpRoute"/>, which serves the other ports at L4 (<see cref="ModeOf"/>).
/// Traffic policies as kube-proxy's CategorizeEndpoints: externalTrafficPolicy Local gives the external listeners
/// (nodePorts, load balancer addresses) a cluster of this node's endpoints ("/local"); internalTrafficPolicy Local gives
/// the ClusterIP listener one cluster per node with endpoints ("/node/NAME"), of which each connection takes its client's
/// node's (<see cref="ClientNodes"/>); externalTrafficPolicy Local traffic that originates on the machine or in a pod
/// takes the cluster-wide endpoints, as kube-proxy's rules send it to the cluster chain. Cluster traffic follows the
/// EndpointSlices' zone hints (the master writes them for trafficDistribution PreferClose and topology-mode Auto) as
/// kube-proxy's topology filter does (<see cref="ServiceEndpoints.ForZone"/>), by the zone of this node — and on the
/// shared ClusterIP sockets by its client's node's zone ("/node/NAME" clusters, as for internalTrafficPolicy Local).
/// Pure, so it is tested without sockets.
/// </summary>
internal static class YarpConfigFromEndpoints
{
    /// <summary>A cluster without destinations: the catch-all route needs one; YARP answers 503 from it.</summary>
    public const string UnassignedClusterId = "unassigned";

    /// <summary>The cluster of one service port: "namespace/name:portName" (the number when the port has no name).</summary>
    public static string ClusterIdOf(string serviceKey, V1ServicePort port) =>
        $"{serviceKey}:{port.Name ?? port.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>The cluster of a service port's endpoints on <paramref name="node"/> (internalTrafficPolicy Local).</summary>
    public static string NodeClusterId(string clusterId, string node) => $"{clusterId}/node/{node}";

    /// <summary><paramref name="nodeName"/> picks the local endpoints of externalTrafficPolicy and internalTrafficPolicy
    /// Local services (null: all, as tests without a node);
    /// <paramref name="isLocalAddress"/> says whether a non-loopback LoadBalancer address is this machine's (else it is skipped).</summary>
    public static ProxyPlan Build(ServicesChanged changed, IPAddress nodeAddress, bool clusterIps = false, string? nodeName = null,
        Func<IPAddress, bool>? isLocalAddress = null)
    {
        var tcpRoutes = new Dictionary<string, TcpRoute>(StringComparer.Ordinal);
        var clusterIpSet = new HashSet<IPAddress>();
        var endpoints = ServiceEndpoints.From(changed.EndpointSlices);
        var listeners = new Dictionary<IPEndPoint, ProxyListener>();
        var clusters = new List<ClusterConfig> { new() { ClusterId = UnassignedClusterId } };
        var skipped = new List<string>();
        var healthChecks = new Dictionary<IPEndPoint, ServiceHealth>();
        var affinityPorts = new HashSet<string>(StringComparer.Ordinal);
        var zones = (changed.NodeZones ?? []).GroupBy(z => z.Node, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Zone, StringComparer.Ordinal);
        var ownZone = nodeName is null ? null : zones.GetValueOrDefault(nodeName);
        // the nodes a ClusterIP client may be on: the proxy picks by the client's node (its pod range, else this node)
        var clientNodes = (changed.PodRanges ?? []).Select(r => r.Node).Append(nodeName).OfType<string>().Distinct(StringComparer.Ordinal).ToList();

        foreach (var service in changed.Services.OrderBy(s => Key(s.Metadata), StringComparer.Ordinal))
        {
            var key = Key(service.Metadata);
            var type = service.Spec?.Type ?? "ClusterIP";
            var serviceNamespace = service.Metadata?.NamespaceProperty ?? "default";
            var serviceName = service.Metadata?.Name ?? "";
            if (type is "NodePort" or "LoadBalancer" && service.Spec?.ExternalTrafficPolicy == "Local" && nodeName is not null
                && service.Spec.HealthCheckNodePort is > 0 and <= 65535 and var healthPort)
            {
                var health = new IPEndPoint(nodeAddress, healthPort);
                var local = endpoints.LocalReadyAddresses(serviceNamespace, serviceName, nodeName);
                if (listeners.ContainsKey(health) || healthChecks.ContainsKey(health))
                    skipped.Add($"{key}: health check port {health} is already taken");
                else
                    healthChecks[health] = new ServiceHealth(service.Metadata?.NamespaceProperty ?? "default", service.Metadata?.Name ?? "", local);
            }
            foreach (var port in service.Spec?.Ports ?? [])
            {
                if (!string.Equals(port.Protocol ?? "TCP", "TCP", StringComparison.OrdinalIgnoreCase))
                {
                    skipped.Add($"{key} port {port.Port}/{port.Protocol}: only TCP is proxied");
                    continue;
                }
                var clusterId = ClusterIdOf(key, port);
                var backends = endpoints.Backends(serviceNamespace, serviceName, port.Name, port.Protocol, nodeName);
                var mode = ModeOf(port.AppProtocol);
                var affinity = ClientIpAffinity.TimeoutOf(service);
                if (affinity is not null) affinityPorts.Add(clusterId);
                // cluster traffic: this node's zone's endpoints when the hints allow (kube-proxy's topology filter)
                AddCluster(clusterId, ServiceEndpoints.Usable(ServiceEndpoints.ForZone(backends, ownZone)));

                // internalTrafficPolicy Local: a ClusterIP connection goes to its client's node's endpoints only (none:
                // refused, as kube-proxy drops it), each node's set chosen as for externalTrafficPolicy Local
                var internalLocal = service.Spec?.InternalTrafficPolicy == "Local" && nodeName is not null;
                if (internalLocal)
                    foreach (var node in backends.Select(b => b.NodeName).OfType<string>().Distinct(StringComparer.Ordinal))
                        AddCluster(NodeClusterId(clusterId, node), ServiceEndpoints.UsableOn(backends, node));
                // zone hints on the shared ClusterIP sockets: each client node's kube-proxy would filter by its own zone
                var byZone = !internalLocal && clusterIps && nodeName is not null && backends.Any(b => b.ZoneHints is { Count: > 0 });
                if (byZone)
                    foreach (var node in clientNodes)
                        AddCluster(NodeClusterId(clusterId, node), ServiceEndpoints.Usable(ServiceEndpoints.ForZone(backends, zones.GetValueOrDefault(node))));
                if (clusterIps && IPAddress.TryParse(service.Spec?.ClusterIP, out var clusterIp) && clusterIp.AddressFamily == AddressFamily.InterNetwork)
                {
                    clusterIpSet.Add(clusterIp);
                    AddListener(new IPEndPoint(clusterIp, port.Port), clusterId, key, shared: true, byClientNode: internalLocal || byZone);
                }

                // externalTrafficPolicy Local: traffic from outside (node ports, load balancer addresses, externalIPs — a
                // ClusterIP Service with externalIPs may have the policy too) goes to this node's endpoints only (none:
                // refused); traffic from the machine or a pod goes to the cluster's, as kube-proxy's rules send it to the
                // cluster chain
                var externalCluster = clusterId;
                string? localOrigin = null;
                if (service.Spec?.ExternalTrafficPolicy == "Local" && nodeName is not null)
                {
                    externalCluster = clusterId + "/local";
                    localOrigin = clusterId;
                    AddCluster(externalCluster, ServiceEndpoints.UsableOn(backends, nodeName));
                }
                if (type is "NodePort" or "LoadBalancer" && port.NodePort is > 0)
                    AddListener(new IPEndPoint(nodeAddress, port.NodePort.Value), externalCluster, key, localOrigin: localOrigin);
                if (type == "LoadBalancer")
                    foreach (var ingress in service.Status?.LoadBalancer?.Ingress ?? [])
                    {
                        if (!IPAddress.TryParse(ingress.Ip, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork) continue;
                        if (IPAddress.IsLoopback(ip) || isLocalAddress?.Invoke(ip) == true)
                            AddListener(new IPEndPoint(ip, port.Port), externalCluster, key, shared: true, localOrigin: localOrigin);
                        else skipped.Add($"{key}: load balancer address {ip} is not an address of this machine; not listening on it");
                    }
                foreach (var externalIp in service.Spec?.ExternalIPs ?? [])
                {
                    if (IPAddress.TryParse(externalIp, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork && IPAddress.IsLoopback(ip))
                        AddListener(new IPEndPoint(ip, port.Port), externalCluster, key, shared: true, localOrigin: localOrigin);
                    else
                        skipped.Add($"{key}: externalIP {externalIp} is not a loopback address of this machine; not listening on it");
                }

                // one set of endpoints of this port: a YARP cluster and its L4 route, sharing the port's affinity table
                void AddCluster(string id, IReadOnlyList<ServiceBackend> usable)
                {
                    var destinations = Destinations(usable);
                    clusters.Add(Cluster(id, destinations, mode, BalancingPolicyOf(service), affinity, clusterId));
                    tcpRoutes[id] = new TcpRoute(id, key, mode, destinations.Keys.Select(IPEndPoint.Parse).ToList(), affinity) { AffinityPort = clusterId };
                }
            }
        }
        foreach (var taken in healthChecks.Keys.Where(listeners.ContainsKey).ToList())
        {
            skipped.Add($"{healthChecks[taken].Namespace}/{healthChecks[taken].Name}: health check port {taken} is already taken by {listeners[taken].Service}");
            healthChecks.Remove(taken);
        }
        return new ProxyPlan(listeners.Values.ToList(), clusters, skipped)
        {
            TcpRoutes = tcpRoutes, ClusterIps = clusterIpSet, HealthChecks = healthChecks, ClientNodes = ClientNodes.From(changed.PodRanges),
            AffinityPorts = affinityPorts,
        };

        void AddListener(IPEndPoint endPoint, string clusterId, string service, bool shared = false, bool byClientNode = false, string? localOrigin = null)
        {
            if (listeners.TryGetValue(endPoint, out var existing))
                skipped.Add($"{service}: {endPoint} is already taken by {existing.Service}");
            else
                listeners[endPoint] = new ProxyListener(endPoint, clusterId, service, shared, byClientNode, localOrigin);
        }
    }

    internal static Dictionary<string, DestinationConfig> Destinations(IEnumerable<ServiceBackend> backends) =>
        backends.ToDictionary(b => b.HostPort, b => new DestinationConfig { Address = $"http://{b.HostPort}" }, StringComparer.Ordinal);

    /// <summary>HTTP (YARP: per-request balancing, health checks, HTTP metrics) only when appProtocol says clear-text
    /// HTTP/1.1 (http, kubernetes.io/ws); any other value, or none, is forwarded at L4 per connection, as
    /// kube-proxy forwards every Service port whatever its protocol. TLS ones (https, kubernetes.io/wss) are L4 too:
    /// the proxy's listeners speak clear text and the pod ends the client's TLS itself. kubernetes.io/h2c (HTTP/2 with
    /// prior knowledge, a gRPC server's) is L4 as well: the client's HTTP/2 reaches the pod as it is, where the HTTP
    /// path would answer an HTTP/2 client from its listener and speak HTTP/1.1 to the pod.</summary>
    internal static ProxyMode ModeOf(string? appProtocol) =>
        appProtocol is not null && HttpAppProtocols.Contains(appProtocol) ? ProxyMode.Http : ProxyMode.Tcp;

    private static readonly HashSet<string> HttpAppProtocols = new(StringComparer.OrdinalIgnoreCase) { "http", "kubernetes.io/ws" };

    /// <summary>The annotation that picks a YARP balancing policy per service: for its HTTP ports (appProtocol) and
    /// Ingress backends; L4 ports are balanced per connection, round robin (or ClientIP).</summary>
    public const string BalancingPolicyAnnotation = "proxy.orchestrator.io/load-balancing";

    private static readonly string[] BalancingPolicies =
    [
        LoadBalancingPolicies.RoundRobin, LoadBalancingPolicies.LeastRequests, LoadBalancingPolicies.PowerOfTwoChoices,
        LoadBalancingPolicies.Random, LoadBalancingPolicies.FirstAlphabetical,
    ];

    internal static string BalancingPolicyOf(V1Service service) =>
        service.Metadata?.Annotations?.TryGetValue(BalancingPolicyAnnotation, out var policy) == true
            ? BalancingPolicies.FirstOrDefault(p => string.Equals(p, policy, StringComparison.OrdinalIgnoreCase)) ?? LoadBalancingPolicies.RoundRobin
            : LoadBalancingPolicies.RoundRobin;

    private static ClusterConfig Cluster(string id, IReadOnlyDictionary<string, DestinationConfig> destinations, ProxyMode mode,
        string balancingPolicy, TimeSpan? affinity, string affinityPort) => new()
    {
        ClusterId = id,
        LoadBalancingPolicy = affinity is not null ? ClientIpLoadBalancingPolicy.PolicyName : balancingPolicy,
        Metadata = affinity is not { } timeout ? null : new Dictionary<string, string>
        {
            [ClientIpLoadBalancingPolicy.PortMetadata] = affinityPort,
            [ClientIpLoadBalancingPolicy.TimeoutMetadata] = ((int)timeout.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        Destinations = destinations,
        // on top of endpoint readiness: a destination that fails transport twice in a row is skipped for a while
        // (passive), and HTTP ports are probed (active) so a hung pod is skipped before a client hits it. Other ports
        // are not probed with HTTP: their pods may not speak it (their cluster serves Ingress backends only, which
        // ingress-nginx does not probe either). With every destination unhealthy YARP falls back to all of them.
        HealthCheck = new HealthCheckConfig
        {
            AvailableDestinationsPolicy = "HealthyOrPanic",
            Passive = new PassiveHealthCheckConfig { Enabled = true, Policy = "TransportFailureRate", ReactivationPeriod = TimeSpan.FromSeconds(10) },
            Active = mode != ProxyMode.Http ? null : new ActiveHealthCheckConfig
            {
                Enabled = true, Interval = TimeSpan.FromSeconds(5), Timeout = TimeSpan.FromSeconds(2), Policy = "ConsecutiveFailures", Path = "/",
            },
        },
        // pods speak HTTP/1.1 in clear text; no h2c attempts
        HttpRequest = new ForwarderRequestConfig { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower },
    };

    private static string Key(V1ObjectMeta? meta) => $"{meta?.NamespaceProperty ?? "default"}/{meta?.Name}";
}
