using System.Net;
using System.Net.Sockets;
using Orchestrator.Node.Host;

namespace Orchestrator.Node.Policy;

internal enum Direction { Ingress, Egress }

/// <summary>One thing a policy rule lets through, for one pod and one direction: traffic with the remote end in
/// <see cref="Remote"/> (a CIDR; /32 for a pod), and, when <see cref="Protocol"/> is set, that protocol to a destination
/// port in [<see cref="Port"/>, <see cref="EndPort"/>] (any port when Port is null). Both the iptables rules and the
/// proxy's decisions are made of these, so they cannot disagree.</summary>
internal sealed record Allowance(string Remote, string? Protocol = null, int? Port = null, int? EndPort = null)
{
    public static Allowance Everything { get; } = new("0.0.0.0/0");

    public bool Matches(IPAddress remote, int port, string protocol)
    {
        if (!Contains(Remote, remote)) return false;
        if (Protocol is null) return true;
        if (!string.Equals(Protocol, protocol, StringComparison.OrdinalIgnoreCase)) return false;
        return Port is not { } from || (port >= from && port <= (EndPort ?? from));
    }

    internal static bool Contains(string cidr, IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetwork) return false;
        var block = PodNetwork.Cidr.Parse(cidr);
        var value = (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(address.GetAddressBytes(), 0));
        return value >= block.Network && value < block.End;
    }

    /// <summary>The CIDR <paramref name="cidr"/> without the blocks in <paramref name="except"/>, as the fewest CIDRs
    /// that cover the rest (an ipBlock's <c>except</c>, in terms iptables matches). Null for a CIDR that is not IPv4.</summary>
    public static IReadOnlyList<string>? Subtract(string cidr, IEnumerable<string>? except)
    {
        PodNetwork.Cidr block;
        try { block = PodNetwork.Cidr.Parse(cidr); }
        catch (ArgumentException) { return null; }
        var blocks = new List<PodNetwork.Cidr> { block };
        foreach (var text in except ?? [])
        {
            PodNetwork.Cidr hole;
            try { hole = PodNetwork.Cidr.Parse(text); }
            catch (ArgumentException) { continue; }
            blocks = blocks.SelectMany(b => Without(b, hole)).ToList();
        }
        return blocks.Select(b => b.ToString()).ToList();
    }

    private static IEnumerable<PodNetwork.Cidr> Without(PodNetwork.Cidr block, PodNetwork.Cidr hole)
    {
        if (!block.Overlaps(hole)) return [block];
        if (hole.Contains(block)) return [];
        return Without(block.LowerHalf, hole).Concat(Without(block.UpperHalf, hole));
    }
}
