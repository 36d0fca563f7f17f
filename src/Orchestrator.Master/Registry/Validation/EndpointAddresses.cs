using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>Kubernetes' ValidateEndpointIP: an endpoint may not be unspecified, loopback, link-local or link-local
/// multicast — nonsensical as a destination, or node-centric (a Service must not become a way into a node's own
/// loopback services or its metadata address). A loopback address that is a registered Node's InternalIP is the
/// exception (see <see cref="IsNodeAddress"/>).</summary>
internal static class EndpointAddresses
{
    /// <summary>An IPv4-mapped IPv6 address is judged by its IPv4 address, as Go's net.IP methods do; <paramref name="text"/>
    /// is the address as written, which the unspecified address's message repeats (ValidateNonSpecialIP).</summary>
    public static IEnumerable<string> SpecialAddressProblems(IPAddress address, string text)
    {
        var ip = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        var bytes = ip.GetAddressBytes();
        var v4 = ip.AddressFamily == AddressFamily.InterNetwork;
        if (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
            yield return $"may not be unspecified ({text})";
        else if (IPAddress.IsLoopback(ip))
            yield return "may not be in the loopback range (127.0.0.0/8, ::1/128)";
        else if ((v4 && bytes[0] == 169 && bytes[1] == 254) || ip.IsIPv6LinkLocal)
            yield return "may not be in the link-local range (169.254.0.0/16, fe80::/10)";
        else if ((v4 && bytes[0] == 224 && bytes[1] == 0 && bytes[2] == 0) || (ip.IsIPv6Multicast && (bytes[1] & 0x0f) == 2))
            yield return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)";
    }

    /// <summary>Here nodes often live on loopback addresses (one machine, 127.0.0.x per node), so a hostNetwork pod's
    /// endpoint is a loopback address; a registered Node's address is allowed, as a node IP is in Kubernetes. Other
    /// loopback addresses stay refused: they would reach whatever listens on a node's own loopback.</summary>
    public static bool IsNodeAddress(IPAddress ip, IAdmissionContext context) =>
        context.List("nodes").OfType<V1Node>().Any(n => (n.Status?.Addresses ?? [])
            .Any(a => a.Type == "InternalIP" && IPAddress.TryParse(a.Address, out var address) && address.Equals(ip)));

    /// <summary>An IPv4 address in dotted-quad form or an IPv6 address without a zone, as Go's net.ParseIP reads them.</summary>
    public static bool TryParse(string text, out IPAddress ip)
    {
        ip = IPAddress.None;
        if (text.Contains('%') || !IPAddress.TryParse(text, out var parsed)) return false;
        if (parsed.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') != 3) return false;
        ip = parsed;
        return true;
    }
}
