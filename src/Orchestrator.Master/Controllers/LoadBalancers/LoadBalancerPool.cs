using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Master.Controllers.LoadBalancers;

/// <summary>
/// The master's <c>--load-balancer-pool</c>: an IPv4 range whose addresses LoadBalancer Services get, one each, as
/// k3s' ServiceLB or MetalLB give them. A range of /30 or wider leaves out its network and broadcast addresses (the
/// ".0/.255" some clients mishandle); a /31 or /32 is used whole. Pure: the controller passes the addresses in use.
/// </summary>
internal sealed record LoadBalancerPool
{
    public const string DefaultCidr = "127.0.100.0/24";

    private readonly uint _first;
    private readonly uint _last;

    private LoadBalancerPool(string cidr, uint first, uint last)
    {
        Cidr = cidr;
        _first = first;
        _last = last;
    }

    public string Cidr { get; }

    /// <summary>Why <paramref name="cidr"/> is not a pool (null when it is one).</summary>
    public static string? Problem(string cidr) => TryParse(cidr, out _) ? null : "must be an IPv4 CIDR such as 127.0.100.0/24";

    public static LoadBalancerPool Parse(string cidr) =>
        TryParse(cidr, out var pool) ? pool! : throw new FormatException($"load balancer pool '{cidr}' is not an IPv4 CIDR");

    public static bool TryParse(string cidr, out LoadBalancerPool? pool)
    {
        pool = null;
        var slash = cidr.IndexOf('/');
        if (slash < 0 || ToUInt(cidr[..slash]) is not { } address || !int.TryParse(cidr[(slash + 1)..], out var bits) || bits is < 1 or > 32)
            return false;
        var size = bits == 32 ? 1u : 1u << (32 - bits);
        var network = address & ~(size - 1);
        var (first, last) = size >= 4 ? (network + 1, network + size - 2) : (network, network + size - 1);
        pool = new LoadBalancerPool($"{FromUInt(network)}/{bits}", first, last);
        return true;
    }

    public bool Contains(IPAddress address) => ToUInt(address.ToString()) is { } v && v >= _first && v <= _last;

    /// <summary>The address for a Service: <paramref name="requested"/> (its spec.loadBalancerIP) when given — if it is
    /// in the pool and free — else the lowest free address. Null with the reason when there is none.</summary>
    public (IPAddress? Address, string? Problem) Allocate(IReadOnlySet<IPAddress> used, string? requested)
    {
        if (!string.IsNullOrEmpty(requested))
        {
            if (!IPAddress.TryParse(requested, out var asked) || !Contains(asked))
                return (null, $"loadBalancerIP {requested} is not in the pool {Cidr}");
            return used.Contains(asked) ? (null, $"loadBalancerIP {requested} is already in use") : (asked, null);
        }
        for (var v = _first; v <= _last && v >= _first; v++)
        {
            var candidate = FromUInt(v);
            if (!used.Contains(candidate)) return (candidate, null);
            if (v == uint.MaxValue) break;
        }
        return (null, $"no available IPs in the pool {Cidr}");
    }

    private static uint? ToUInt(string? address) =>
        IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork
            ? (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(ip.GetAddressBytes(), 0))
            : null;

    private static IPAddress FromUInt(uint value) => new(BitConverter.GetBytes(IPAddress.HostToNetworkOrder((int)value)));
}
