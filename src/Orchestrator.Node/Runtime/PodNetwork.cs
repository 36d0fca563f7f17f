using System.Net;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// The pods' Docker bridge network as the node creates it: subnet 172.28.0.0/16 by default, containers take
/// addresses from its lower half only (the IP range), the upper half holds the ClusterIPs the master allocates,
/// the gateway (the host's side of the bridge) runs cluster DNS, and the bridge interface has a fixed name so
/// the proxy can add ClusterIP addresses to it.
/// </summary>
public sealed record PodNetwork(string Subnet, string IpRange, string Gateway, string Bridge)
{
    public const string DefaultCidr = "172.28.0.0/16";
    public const string DefaultBridge = "orch0";

    public static PodNetwork FromCidr(string cidr, string bridge = DefaultBridge)
    {
        var slash = cidr.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(cidr[..slash], out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
            || !int.TryParse(cidr[(slash + 1)..], out var bits) || bits is < 8 or > 24)
            throw new ArgumentException($"pod CIDR '{cidr}' is not an IPv4 CIDR with a prefix length of 8 to 24");
        var value = (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(ip.GetAddressBytes(), 0));
        var size = 1u << (32 - bits);
        var network = value & ~(size - 1);
        return new PodNetwork($"{Format(network)}/{bits}", $"{Format(network)}/{bits + 1}", Format(network + 1), bridge);
    }

    private static string Format(uint value) => new IPAddress(BitConverter.GetBytes(IPAddress.HostToNetworkOrder((int)value))).ToString();
}

/// <summary>What ClusterFirst pods get as resolver configuration: the cluster DNS address and the cluster domain.</summary>
public sealed record PodDns(string Nameserver, string ClusterDomain)
{
    /// <summary>The kubelet's search path: &lt;ns&gt;.svc.&lt;domain&gt; svc.&lt;domain&gt; &lt;domain&gt;.</summary>
    public IList<string> SearchFor(string @namespace) => [$"{@namespace}.svc.{ClusterDomain}", $"svc.{ClusterDomain}", ClusterDomain];
}
