using System.Net;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Host;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// Makes ClusterIPs local addresses of the host, on the pod network's bridge interface: each one is added as a /32
/// with the label <c>&lt;bridge&gt;:svc</c> (<c>ip addr add 172.28.128.5/32 dev orch0 label orch0:svc</c>). The
/// ClusterIP range is part of the bridge's subnet, so a pod that connects to a ClusterIP ARPs for it on its own link,
/// the host answers (the address is local on that interface), and the proxy's listener on ClusterIP:port accepts.
/// Every node process on the machine serves the same ClusterIPs on the same bridge: adding is idempotent (an address
/// that already exists counts as added), and an address is removed only when its Service is gone — never because a
/// node stops, since the other nodes still serve it. What is left when the last node stops is flushed by
/// <c>deploy/down.sh</c> (only when no other node process runs) and is harmless meanwhile. Needs root
/// (CAP_NET_ADMIN); without it ClusterIPs stay unserved and the failure is logged once per address.
/// </summary>
internal sealed class ClusterIpAddresses
{
    private readonly string? _bridge;
    private readonly IpCommand _ip;
    private readonly HashSet<IPAddress> _present = new();
    private readonly bool _alreadyLocal;

    public ClusterIpAddresses(string? bridge, ILogger log)
    {
        _bridge = bridge;
        _ip = new IpCommand(log);
    }

    private ClusterIpAddresses(ILogger log) : this(null, log) => _alreadyLocal = true;

    /// <summary>ClusterIPs the machine has already (loopback ones, as the proxy's tests use): served, never added.</summary>
    internal static ClusterIpAddresses AlreadyLocal(ILogger log) => new(log);

    public bool Enabled => _bridge is not null || _alreadyLocal;

    public string Label => $"{_bridge}:svc";

    /// <summary>Converges the bridge's labelled addresses on <paramref name="wanted"/>; returns the ones present after.
    /// Checked against the bridge each time (level-triggered): an address another node removed for a Service that was
    /// deleted while a new one reused its ClusterIP is put back here.</summary>
    public IReadOnlySet<IPAddress> Ensure(IEnumerable<IPAddress> wanted)
    {
        if (_alreadyLocal) return wanted.ToHashSet();
        if (_bridge is null) return _present;
        var target = wanted.ToHashSet();
        var local = _ip.Addresses(_bridge) ?? new HashSet<IPAddress>();
        foreach (var gone in _present.Where(a => !target.Contains(a)).ToList())
            if (!local.Contains(gone) || _ip.Delete(_bridge, gone)) _present.Remove(gone);
        foreach (var address in target)
            if (local.Contains(address) || _ip.Add(_bridge, address, Label)) _present.Add(address);
            else _present.Remove(address);
        return _present;
    }
}
