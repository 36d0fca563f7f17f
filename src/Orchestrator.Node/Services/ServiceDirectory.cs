using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using k8s.Models;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Services;

/// <summary>
/// The node's view of the cluster's Services and EndpointSlices: the newest <see cref="ServicesChanged"/> the master sent,
/// as an immutable snapshot swapped on every <see cref="Publish"/>, and a change notification. The agent publishes
/// into it; the service proxy subscribes; cluster DNS answers names from it and the runtime takes a pod's service
/// environment variables from it. It owns no sockets and no timers.
/// </summary>
internal sealed class ServiceDirectory
{
    private readonly object _gate = new();
    private volatile Snapshot _snapshot = new(new Dictionary<string, V1Service>(), ServiceEndpoints.Empty);
    private ServicesChanged? _current;
    private ImmutableArray<Action<ServicesChanged>> _subscribers = [];

    /// <summary>Replaces the view with <paramref name="changed"/>, then hands it to every subscriber in turn; a
    /// subscriber that throws does not keep the others from it (the exceptions are thrown together afterwards).</summary>
    public void Publish(ServicesChanged changed)
    {
        var services = changed.Services.ToDictionary(s => Key(s.Metadata.NamespaceProperty, s.Metadata.Name), StringComparer.Ordinal);
        var endpoints = ServiceEndpoints.From(changed.EndpointSlices);
        lock (_gate)
        {
            _snapshot = new Snapshot(services, endpoints);
            _current = changed;
            var failures = new List<Exception>();
            foreach (var subscriber in _subscribers)
            {
                try { subscriber(changed); }
                catch (Exception e) { failures.Add(e); }
            }
            if (failures.Count > 0) throw new AggregateException(failures);
        }
    }

    /// <summary>Calls <paramref name="onChanged"/> with every published generation from now on, and at once with the
    /// current one if there is one, in order and one at a time. It must be quick: the publisher waits for it.</summary>
    public void Subscribe(Action<ServicesChanged> onChanged)
    {
        lock (_gate)
        {
            _subscribers = _subscribers.Add(onChanged);
            if (_current is { } current) onChanged(current);
        }
    }

    /// <summary>A's for the service: its ClusterIP, or for a headless service (clusterIP None) its ready endpoints'
    /// addresses (from its EndpointSlices, as CoreDNS reads them). Null when there is no such service.</summary>
    public IReadOnlyList<IPAddress>? Addresses(string @namespace, string name)
    {
        var snapshot = _snapshot;
        if (!snapshot.Services.TryGetValue(Key(@namespace, name), out var service)) return null;
        var clusterIp = service.Spec?.ClusterIP;
        if (clusterIp is not (null or "" or "None"))
            return IPAddress.TryParse(clusterIp, out var ip) ? [ip] : [];
        return snapshot.Endpoints.Endpoints(@namespace, name).Where(e => e.Ready).Select(e => e.Address).ToList();
    }

    /// <summary>A's for <c>&lt;endpoint&gt;.&lt;service&gt;</c> of a headless service, as CoreDNS names its ready
    /// endpoints: by the address's hostname (a pod's hostname whose subdomain is the service), else by its IP with
    /// dashes (10-1-0-5). Null when no such service or endpoint exists.</summary>
    public IReadOnlyList<IPAddress>? EndpointAddresses(string @namespace, string service, string endpoint)
    {
        var snapshot = _snapshot;
        if (!snapshot.Services.TryGetValue(Key(@namespace, service), out var svc) || svc.Spec?.ClusterIP is not "None") return null;
        var found = snapshot.Endpoints.Endpoints(@namespace, service)
            .Where(e => e.Ready && string.Equals(e.Hostname is { Length: > 0 } h ? h : e.Address.ToString().Replace('.', '-').Replace(':', '-'),
                endpoint, StringComparison.OrdinalIgnoreCase))
            .Select(e => e.Address)
            .ToList();
        return found.Count == 0 ? null : found;
    }

    public bool NamespaceHasServices(string @namespace) =>
        _snapshot.Services.Values.Any(s => (s.Metadata.NamespaceProperty ?? "default") == @namespace);

    /// <summary>
    /// The docker-link style variables the kubelet gives a container for every service of its namespace that has a
    /// ClusterIP (when <paramref name="serviceLinks"/>, the pod's enableServiceLinks): REDIS_MASTER_SERVICE_HOST=…,
    /// REDIS_MASTER_SERVICE_PORT=…, REDIS_MASTER_PORT=tcp://ip:port, REDIS_MASTER_PORT_6379_TCP(_PROTO|_PORT|_ADDR)=…;
    /// named ports also give _SERVICE_PORT_&lt;NAME&gt;. The API server's own Service (default/kubernetes) is always
    /// included, as the kubelet does, so in-cluster clients find KUBERNETES_SERVICE_HOST/PORT in every pod.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> EnvironmentFor(string @namespace, bool serviceLinks = true)
    {
        var env = new List<KeyValuePair<string, string>>();
        var services = new SortedDictionary<string, V1Service>(StringComparer.Ordinal);
        if (serviceLinks)
            foreach (var service in _snapshot.Services.Values.Where(s => (s.Metadata.NamespaceProperty ?? "default") == @namespace))
                services[service.Metadata.Name] = service;
        // the namespace's own Service of that name wins, as in the kubelet
        if (_snapshot.Services.TryGetValue(Key("default", "kubernetes"), out var apiServer)) services.TryAdd("kubernetes", apiServer);
        foreach (var service in services.Values)
        {
            var ip = service.Spec?.ClusterIP;
            var ports = service.Spec?.Ports ?? [];
            if (ip is null or "" or "None" || ports.Count == 0) continue;
            var prefix = EnvName(service.Metadata.Name);
            var first = ports[0];
            env.Add(new($"{prefix}_SERVICE_HOST", ip));
            env.Add(new($"{prefix}_SERVICE_PORT", Num(first.Port)));
            foreach (var port in ports.Where(p => !string.IsNullOrEmpty(p.Name)))
                env.Add(new($"{prefix}_SERVICE_PORT_{EnvName(port.Name)}", Num(port.Port)));
            var firstProtocol = (first.Protocol ?? "TCP").ToLowerInvariant();
            env.Add(new($"{prefix}_PORT", $"{firstProtocol}://{ip}:{Num(first.Port)}"));
            foreach (var port in ports)
            {
                var protocol = port.Protocol ?? "TCP";
                var linkPrefix = $"{prefix}_PORT_{Num(port.Port)}_{protocol.ToUpperInvariant()}";
                env.Add(new(linkPrefix, $"{protocol.ToLowerInvariant()}://{ip}:{Num(port.Port)}"));
                env.Add(new($"{linkPrefix}_PROTO", protocol.ToLowerInvariant()));
                env.Add(new($"{linkPrefix}_PORT", Num(port.Port)));
                env.Add(new($"{linkPrefix}_ADDR", ip));
            }
        }
        return env;
    }

    internal static string EnvName(string name) => name.ToUpperInvariant().Replace('-', '_');

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Key(string? @namespace, string name) => $"{@namespace ?? "default"}/{name}";

    private sealed record Snapshot(IReadOnlyDictionary<string, V1Service> Services, ServiceEndpoints Endpoints);
}
