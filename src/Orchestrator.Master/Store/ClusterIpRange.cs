using System.Net;

namespace Orchestrator.Master.Store;

/// <summary>
/// The service ClusterIP range, 172.28.128.0/17 unless the master's <c>--service-cidr</c> says otherwise. It is the
/// upper half of the pods' Docker network 172.28.0.0/16 (containers get addresses from the lower half only), so a
/// ClusterIP is on the pods' link and the node serves it from the bridge's host side — no traffic ever leaves for
/// a range outside the project's Docker network. The first address belongs to the kubernetes Service, so automatic
/// allocation starts at the second and takes the lowest free address.
/// </summary>
internal static class ClusterIpRange
{
    public const string DefaultCidr = "172.28.128.0/17";

    private static (uint Network, uint Size, string Cidr) _range = Parse(DefaultCidr);

    public static string Cidr => _range.Cidr;

    /// <summary>The kubernetes Service's address: the range's first host address.</summary>
    public static string First => FromUInt(_range.Network + 1);

    /// <summary>Set once at start from <c>--service-cidr</c>, before the store admits anything.</summary>
    public static void Use(string cidr) => _range = Parse(cidr);

    internal static (uint Network, uint Size, string Cidr) Parse(string cidr)
    {
        var slash = cidr.IndexOf('/');
        if (slash < 0 || ToUInt(cidr[..slash]) is not { } address || !int.TryParse(cidr[(slash + 1)..], out var bits) || bits is < 8 or > 30)
            throw new ArgumentException($"service CIDR '{cidr}' is not an IPv4 CIDR with a prefix length of 8 to 30");
        var size = 1u << (32 - bits);
        var network = address & ~(size - 1);
        return (network, size, $"{FromUInt(network)}/{bits}");
    }

    private static uint? ToUInt(string? address) =>
        IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(ip.GetAddressBytes(), 0))
            : null;

    private static string FromUInt(uint value) => new IPAddress(BitConverter.GetBytes(IPAddress.HostToNetworkOrder((int)value))).ToString();

    /// <summary>In the range, excluding its network and broadcast addresses.</summary>
    public static bool Contains(string address)
    {
        var (network, size, _) = _range;
        return ToUInt(address) is { } v && v > network && v < network + size - 1;
    }

    public static string? NextFree(IEnumerable<string?> used)
    {
        var (network, size, _) = _range;
        var taken = used.Select(ToUInt).Where(v => v is not null).Select(v => v!.Value).ToHashSet();
        for (var v = network + 2; v < network + size - 1; v++)
            if (!taken.Contains(v)) return FromUInt(v);
        return null;
    }
}

/// <summary>The node port range, 30000–32767 (Kubernetes' default --service-node-port-range).</summary>
internal static class NodePortRange
{
    public const int First = 30000;
    public const int Last = 32767;
}
