using System.Net;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Host;

namespace Orchestrator.Node.Dns;

/// <summary>
/// This node's cluster DNS address (the first usable address of its pod range) as a local address of the pod bridge,
/// so its pods reach the DNS listener over their own link. The default range's DNS address is the bridge's gateway,
/// which Docker already put there; any other is added as a /32 labelled <c>&lt;bridge&gt;:dns</c> and removed when the
/// node stops cleanly (no other node uses it: each node's range, hence DNS address, is its own).
/// </summary>
internal sealed class NodeDnsAddress(PodNetwork pods, ILogger log)
{
    private readonly IpCommand _ip = new(log);
    private bool _added;

    public IPAddress Address { get; } = IPAddress.Parse(pods.DnsAddress);

    public string Label => $"{pods.Bridge}:dns";

    /// <summary>True when the address is local on the bridge (the bridge must exist: the runtime made the network).</summary>
    public bool Ensure()
    {
        if (pods.DnsIsGateway || _added) return true;
        _added = _ip.Add(pods.Bridge, Address, Label);
        if (_added) log.LogInformation("Added cluster DNS address {Address}/32 to {Bridge}", Address, pods.Bridge);
        return _added;
    }

    public void Remove()
    {
        if (!_added) return;
        if (_ip.Delete(pods.Bridge, Address)) log.LogInformation("Removed cluster DNS address {Address}/32 from {Bridge}", Address, pods.Bridge);
        _added = false;
    }
}
