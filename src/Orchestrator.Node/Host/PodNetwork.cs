using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Node.Host;

/// <summary>
/// The pods' network as this node sees it. <c>Subnet</c> is the machine's shared Docker bridge network (node option
/// <c>--pod-network</c>, 172.28.0.0/16 by default): every node on the machine joins the same network, whichever comes
/// first creates it with Docker's ip-range on its lower half (<see cref="NetworkIpRange"/>); the upper half holds the
/// ClusterIPs the master allocates (<see cref="ServiceRange"/>); the gateway is the host's side of the bridge, and the
/// bridge interface has a fixed name so the proxy can add ClusterIP addresses to it. <c>IpRange</c> is THIS node's
/// pod range inside the lower half (node option <c>--pod-cidr</c>, the Node's <c>spec.podCIDR</c>; the whole lower
/// half by default, for a single-node cluster): the node allocates pod IPs from it, never its network address, its
/// first usable address (<see cref="DnsAddress"/>, where this node's cluster DNS listens) or its broadcast address.
/// </summary>
internal sealed record PodNetwork(string Subnet, string IpRange, string Gateway, string Bridge)
{
    public const string DefaultNetwork = "172.28.0.0/16";
    public const string DefaultPodCidr = "172.28.0.0/17";
    public const string DefaultBridge = "orch0";

    /// <summary>The Docker network's own ip-range: the lower half of the subnet (the upper half is the ClusterIPs').</summary>
    public string NetworkIpRange => Cidr.Parse(Subnet).LowerHalf.ToString();

    /// <summary>The ClusterIP half of the subnet (the master's default <c>--service-cidr</c>).</summary>
    public string ServiceRange => Cidr.Parse(Subnet).UpperHalf.ToString();

    /// <summary>The first usable address of this node's range: its cluster DNS address and its pods' nameserver. For
    /// the default range it is the bridge's gateway; otherwise the node adds it to the bridge as a /32.</summary>
    public string DnsAddress => Cidr.Format(Cidr.Parse(IpRange).Network + 1);

    /// <summary>True when <see cref="DnsAddress"/> is the bridge's own address (nothing to add).</summary>
    public bool DnsIsGateway => DnsAddress == Gateway;

    /// <summary>The network and this node's range from the flags; throws <see cref="ArgumentException"/> with a
    /// one-line reason when the range is not inside the network's pod half.</summary>
    public static PodNetwork Parse(string network, string? podCidr = null, string bridge = DefaultBridge)
    {
        var subnet = Cidr.Parse(network, "--pod-network", minBits: 8, maxBits: 24);
        var range = podCidr is null ? subnet.LowerHalf : Cidr.Parse(podCidr, "--pod-cidr", minBits: 9, maxBits: 30);
        if (!subnet.Contains(range))
            throw new ArgumentException($"--pod-cidr {range} is not inside --pod-network {subnet}");
        if (subnet.UpperHalf.Overlaps(range))
            throw new ArgumentException($"--pod-cidr {range} overlaps the ClusterIP range {subnet.UpperHalf} (the upper half of --pod-network {subnet})");
        return new PodNetwork(subnet.ToString(), range.ToString(), Cidr.Format(subnet.Network + 1), bridge);
    }

    /// <summary>A network on <paramref name="cidr"/> whose node range is its whole lower half (one node per machine).</summary>
    public static PodNetwork FromCidr(string cidr, string bridge = DefaultBridge) => Parse(cidr, null, bridge);

    /// <summary>An IPv4 CIDR block as numbers.</summary>
    internal readonly record struct Cidr(uint Network, int Bits)
    {
        public ulong Size => 1ul << (32 - Bits);
        public ulong End => Network + Size; // exclusive
        public Cidr LowerHalf => new(Network, Bits + 1);
        public Cidr UpperHalf => new((uint)(Network + Size / 2), Bits + 1);
        public bool Contains(Cidr other) => other.Network >= Network && other.End <= End;
        public bool Overlaps(Cidr other) => other.Network < End && Network < other.End;
        public override string ToString() => $"{Format(Network)}/{Bits}";

        public static Cidr Parse(string text, string flag = "CIDR", int minBits = 0, int maxBits = 32)
        {
            var slash = text.IndexOf('/');
            if (slash < 0 || !IPAddress.TryParse(text[..slash], out var ip) || ip.AddressFamily != AddressFamily.InterNetwork
                || !int.TryParse(text[(slash + 1)..], out var bits) || bits < minBits || bits > maxBits)
                throw new ArgumentException($"{flag} '{text}' is not an IPv4 CIDR with a prefix length of {minBits} to {maxBits}");
            var value = (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(ip.GetAddressBytes(), 0));
            var mask = bits == 0 ? 0u : uint.MaxValue << (32 - bits);
            return new Cidr(value & mask, bits);
        }

        public static string Format(uint value) => new IPAddress(BitConverter.GetBytes(IPAddress.HostToNetworkOrder((int)value))).ToString();
    }
}

/// <summary>What ClusterFirst pods get as resolver configuration: the cluster DNS address and the cluster domain.</summary>
internal sealed record PodDns(string Nameserver, string ClusterDomain)
{
    /// <summary>The kubelet's search path: &lt;ns&gt;.svc.&lt;domain&gt; svc.&lt;domain&gt; &lt;domain&gt;.</summary>
    public IList<string> SearchFor(string @namespace) => [$"{@namespace}.svc.{ClusterDomain}", $"svc.{ClusterDomain}", ClusterDomain];
}
