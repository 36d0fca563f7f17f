using System.Net;
using System.Net.Sockets;
using k8s.Models;

namespace Orchestrator.Node.Services;

/// <summary>One address of an EndpointSlice endpoint with its conditions, read as kube-proxy reads them: ready and
/// serving are true unless set false, terminating is false unless set true.</summary>
internal sealed record SliceEndpoint(IPAddress Address, string? NodeName, string? Hostname, bool Ready, bool Serving, bool Terminating);

/// <summary>A backend of one service port: an endpoint's address at the port its slice gives that port name, with the
/// zones its slice hints it for (<c>hints.forZones</c>; none: not hinted).</summary>
internal sealed record ServiceBackend(IPEndPoint EndPoint, string? NodeName, bool Ready, bool Serving, bool Terminating,
    IReadOnlyList<string>? ZoneHints = null)
{
    public string HostPort => EndPoint.ToString();
}

/// <summary>
/// The EndpointSlices of every Service, merged per Service as kube-proxy's EndpointSliceCache merges them: a slice
/// belongs to the Service named by its <c>kubernetes.io/service-name</c> label (slices without it belong to none), all
/// of a Service's slices count together, FQDN slices are ignored, a port is matched by name and protocol, and an
/// address listed by several slices is one backend. Immutable; built once per <c>ServicesChanged</c>.
/// </summary>
internal sealed class ServiceEndpoints
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";

    public static readonly ServiceEndpoints Empty = new(new Dictionary<string, List<V1EndpointSlice>>());

    private readonly IReadOnlyDictionary<string, List<V1EndpointSlice>> _slices;

    private ServiceEndpoints(IReadOnlyDictionary<string, List<V1EndpointSlice>> slices) => _slices = slices;

    public static ServiceEndpoints From(IEnumerable<V1EndpointSlice> slices)
    {
        var byService = new Dictionary<string, List<V1EndpointSlice>>(StringComparer.Ordinal);
        foreach (var slice in slices)
        {
            if (slice.Metadata?.Labels?.TryGetValue(ServiceNameLabel, out var service) != true || string.IsNullOrEmpty(service)) continue;
            if (slice.AddressType is not ("IPv4" or "IPv6")) continue;
            var key = Key(slice.Metadata.NamespaceProperty, service);
            if (!byService.TryGetValue(key, out var list)) byService[key] = list = [];
            list.Add(slice);
        }
        // a stable order (by slice name), so which duplicate wins does not depend on the order the master listed them in
        foreach (var list in byService.Values) list.Sort((a, b) => string.CompareOrdinal(a.Metadata.Name, b.Metadata.Name));
        return new ServiceEndpoints(byService);
    }

    /// <summary>Every IP endpoint of the Service (IPv4 and IPv6), each address once: what cluster DNS answers from.</summary>
    public IReadOnlyList<SliceEndpoint> Endpoints(string? @namespace, string service)
    {
        var found = new Dictionary<IPAddress, SliceEndpoint>();
        foreach (var slice in SlicesOf(@namespace, service))
            foreach (var endpoint in slice.Endpoints ?? [])
                if (Parse(endpoint, slice.AddressType) is { } parsed) found.TryAdd(parsed.Address, parsed);
        return found.Values.ToList();
    }

    /// <summary>The IPv4 backends of one service port (the proxy is IPv4 only): every slice port of that name and
    /// protocol, at that slice's port number; one backend per address and port, a local one (on
    /// <paramref name="nodeName"/>) preferred when slices disagree, as kube-proxy keeps them.</summary>
    public IReadOnlyList<ServiceBackend> Backends(string? @namespace, string service, string? portName, string? protocol,
        string? nodeName = null)
    {
        var backends = new Dictionary<string, ServiceBackend>(StringComparer.Ordinal);
        foreach (var slice in SlicesOf(@namespace, service))
        {
            if (slice.AddressType != "IPv4") continue;
            foreach (var port in slice.Ports ?? [])
            {
                if ((port.Name ?? "") != (portName ?? "")) continue;
                if (!string.Equals(port.Protocol ?? "TCP", protocol ?? "TCP", StringComparison.OrdinalIgnoreCase)) continue;
                if (port.Port is not (> 0 and <= 65535) || port.Port is not { } number) continue;
                foreach (var endpoint in slice.Endpoints ?? [])
                {
                    if (Parse(endpoint, "IPv4") is not { } parsed) continue;
                    var backend = new ServiceBackend(new IPEndPoint(parsed.Address, number), parsed.NodeName, parsed.Ready, parsed.Serving, parsed.Terminating,
                        endpoint.Hints?.ForZones is { Count: > 0 } zones ? zones.Select(z => z.Name).ToList() : null);
                    var isLocal = nodeName is not null && parsed.NodeName == nodeName;
                    if (!backends.ContainsKey(backend.HostPort) || isLocal) backends[backend.HostPort] = backend;
                }
            }
        }
        return backends.Values.ToList();
    }

    /// <summary>What kube-proxy sends traffic to (CategorizeEndpoints): the ready backends; when none is ready, those
    /// still serving while they terminate, so connections are not dropped during a rollout.</summary>
    public static IReadOnlyList<ServiceBackend> Usable(IReadOnlyList<ServiceBackend> backends)
    {
        var ready = backends.Where(b => b.Ready).ToList();
        return ready.Count > 0 ? ready : backends.Where(b => b.Serving && b.Terminating).ToList();
    }

    /// <summary>kube-proxy's topology filter of cluster traffic (topologyModeFromHints, PreferSameZone): when every ready
    /// backend has a zone hint and at least one is hinted for <paramref name="zone"/> (the node's zone), the ready backends
    /// hinted for it; otherwise all of them (so also when the node has no zone or no backend is ready).</summary>
    public static IReadOnlyList<ServiceBackend> ForZone(IReadOnlyList<ServiceBackend> backends, string? zone)
    {
        if (string.IsNullOrEmpty(zone)) return backends;
        var ready = backends.Where(b => b.Ready).ToList();
        if (ready.Count == 0 || ready.Any(b => b.ZoneHints is not { Count: > 0 })) return backends;
        var inZone = ready.Where(b => b.ZoneHints!.Contains(zone)).ToList();
        return inZone.Count > 0 ? inZone : backends;
    }

    /// <summary>externalTrafficPolicy Local: the ready backends on <paramref name="nodeName"/>, else its serving and
    /// terminating ones.</summary>
    public static IReadOnlyList<ServiceBackend> UsableOn(IReadOnlyList<ServiceBackend> backends, string nodeName) =>
        Usable(backends.Where(b => b.NodeName == nodeName).ToList());

    /// <summary>How many distinct ready IPv4 addresses of the Service are on <paramref name="nodeName"/>, over all its
    /// ports (kube-proxy's LocalReadyEndpoints, what a healthCheckNodePort reports).</summary>
    public int LocalReadyAddresses(string? @namespace, string service, string nodeName) =>
        SlicesOf(@namespace, service)
            .Where(s => s.AddressType == "IPv4" && (s.Ports ?? []).Any(p => p.Port is > 0))
            .SelectMany(s => (s.Endpoints ?? []).Select(e => Parse(e, "IPv4")))
            .OfType<SliceEndpoint>()
            .Where(e => e.Ready && e.NodeName == nodeName)
            .Select(e => e.Address)
            .Distinct()
            .Count();

    private IEnumerable<V1EndpointSlice> SlicesOf(string? @namespace, string service) =>
        _slices.TryGetValue(Key(@namespace, service), out var slices) ? slices : [];

    // kube-proxy reads an endpoint's first address only; an address of the wrong family for its slice is skipped
    private static SliceEndpoint? Parse(V1Endpoint endpoint, string? addressType)
    {
        if (endpoint.Addresses is not { Count: > 0 } addresses || !IPAddress.TryParse(addresses[0], out var ip)) return null;
        var family = addressType == "IPv6" ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        if (ip.AddressFamily != family) return null;
        var conditions = endpoint.Conditions;
        return new SliceEndpoint(ip, endpoint.NodeName, endpoint.Hostname,
            Ready: conditions?.Ready ?? true, Serving: conditions?.Serving ?? true, Terminating: conditions?.Terminating ?? false);
    }

    private static string Key(string? @namespace, string name) => $"{@namespace ?? "default"}/{name}";
}
