using System.Net;

namespace Orchestrator.Master.Store.Admission;

/// <summary>The service ClusterIP range 10.96.0.0/12. 10.96.0.1 belongs to the kubernetes Service, so
/// automatic allocation starts at 10.96.0.2 and takes the lowest free address.</summary>
public static class ClusterIpRange
{
    public const string Cidr = "10.96.0.0/12";
    private const uint Network = (10u << 24) | (96u << 16);
    private const uint Size = 1u << 20;

    private static uint? ToUInt(string? address) =>
        IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(ip.GetAddressBytes(), 0))
            : null;

    private static string FromUInt(uint value) => new IPAddress(BitConverter.GetBytes(IPAddress.HostToNetworkOrder((int)value))).ToString();

    /// <summary>In the range, excluding its network and broadcast addresses.</summary>
    public static bool Contains(string address) =>
        ToUInt(address) is { } v && v > Network && v < Network + Size - 1;

    public static string? NextFree(IEnumerable<string?> used)
    {
        var taken = used.Select(ToUInt).Where(v => v is not null).Select(v => v!.Value).ToHashSet();
        for (var v = Network + 2; v < Network + Size - 1; v++)
            if (!taken.Contains(v)) return FromUInt(v);
        return null;
    }
}
