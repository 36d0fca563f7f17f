using System.Net;
using System.Net.Sockets;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// Which node a client of the proxy is on, by the pod ranges of all Nodes (their spec.podCIDR). kube-proxy runs on the
/// client's node, so internalTrafficPolicy Local means the endpoints on that node; here the nodes of one machine share
/// the ClusterIP sockets and a connection may be accepted by another node's proxy, which goes by the client's address.
/// An address in no pod range (a process of the machine, or a node without a range) is the accepting node's own
/// client, as the host's traffic to a ClusterIP is its own kube-proxy's.
/// </summary>
internal sealed class ClientNodes
{
    public static readonly ClientNodes None = new([]);

    private readonly (uint Network, uint Mask, string Node)[] _ranges;

    private ClientNodes((uint, uint, string)[] ranges) => _ranges = ranges;

    /// <summary>The ranges that parse as IPv4 CIDRs (the proxy is IPv4 only); the narrowest first, so a node whose range
    /// lies inside another's (the default whole half beside a narrower one) still gets its own clients.</summary>
    public static ClientNodes From(IEnumerable<NodePodRange>? ranges)
    {
        var parsed = new List<(uint, uint, string)>();
        foreach (var range in ranges ?? [])
        {
            if (string.IsNullOrEmpty(range.Node) || !IPNetwork.TryParse(range.PodCidr, out var network)
                || network.BaseAddress.AddressFamily != AddressFamily.InterNetwork) continue;
            var mask = network.PrefixLength == 0 ? 0u : uint.MaxValue << (32 - network.PrefixLength);
            parsed.Add((ToUInt32(network.BaseAddress) & mask, mask, range.Node));
        }
        return new ClientNodes(parsed.OrderByDescending(r => r.Item2).ThenBy(r => r.Item3, StringComparer.Ordinal).ToArray());
    }

    /// <summary>The node whose pod range holds <paramref name="client"/>; null when none does.</summary>
    public string? NodeOf(IPAddress? client)
    {
        if (client is null || _ranges.Length == 0) return null;
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        if (client.AddressFamily != AddressFamily.InterNetwork) return null;
        var address = ToUInt32(client);
        foreach (var (network, mask, node) in _ranges)
            if ((address & mask) == network) return node;
        return null;
    }

    private static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return (uint)bytes[0] << 24 | (uint)bytes[1] << 16 | (uint)bytes[2] << 8 | bytes[3];
    }
}
