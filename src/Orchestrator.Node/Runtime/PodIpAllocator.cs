using System.Net;
using System.Net.Sockets;
using Orchestrator.Node.Host;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// Picks pod IPs from this node's pod range (<see cref="PodNetwork.IpRange"/>) itself, so the IP is known before
/// the pod's containers are created (downward API status.podIP) and nodes sharing one Docker network never hand out
/// each other's addresses. Never returns the range's network address, its first usable address (the gateway or the
/// node's DNS address) or its broadcast address, an address the caller says is in use (every container on the
/// Docker network, whichever node made it), or one handed out and not yet <see cref="Release"/>d (a sandbox being
/// started is not on the network yet). Addresses go round-robin from the last one given, like the host-local
/// IPAM plugin, so a pod's old address is not reused at once; a restarted node agent starts after the highest
/// address in use in its range (the containers it adopts), not at the bottom. Thread-safe.
/// </summary>
internal sealed class PodIpAllocator
{
    private readonly uint _first;   // first address that may be handed out
    private readonly uint _last;    // last address that may be handed out
    private readonly HashSet<uint> _inFlight = new();
    private readonly object _gate = new();
    private uint _next;
    private bool _started;

    public PodIpAllocator(string ipRange)
    {
        var (network, bits) = ParseCidr(ipRange);
        var size = 1UL << (32 - bits);
        if (size < 4) throw new ArgumentException($"pod IP range '{ipRange}' has no address to give pods");
        _first = network + 2;
        _last = (uint)(network + size - 2);
        _next = _first;
    }

    /// <summary>How many addresses the range can give pods.</summary>
    public long Capacity => (long)_last - _first + 1;

    /// <summary>A free address, reserved until <see cref="Release"/>; null when the range is full.</summary>
    public string? Allocate(IEnumerable<string> inUse)
    {
        var used = new HashSet<uint>();
        foreach (var address in inUse)
            if (TryParse(address, out var value)) used.Add(value);
        lock (_gate)
        {
            if (!_started)
            {
                _started = true;
                var highest = used.Where(a => a >= _first && a <= _last).DefaultIfEmpty(_last).Max();
                _next = highest == _last ? _first : highest + 1;
            }
            var candidate = _next;
            for (long tried = 0; tried < Capacity; tried++)
            {
                if (!used.Contains(candidate) && _inFlight.Add(candidate))
                {
                    _next = candidate == _last ? _first : candidate + 1;
                    return Format(candidate);
                }
                candidate = candidate == _last ? _first : candidate + 1;
            }
            return null;
        }
    }

    /// <summary>The address is on the network now (or was never used): it no longer needs holding.</summary>
    public void Release(string address)
    {
        if (!TryParse(address, out var value)) return;
        lock (_gate) _inFlight.Remove(value);
    }

    /// <summary>"172.28.0.5" or Docker's "172.28.0.5/16".</summary>
    private static bool TryParse(string address, out uint value)
    {
        value = 0;
        var slash = address.IndexOf('/');
        if (!IPAddress.TryParse(slash < 0 ? address : address[..slash], out var ip) || ip.AddressFamily != AddressFamily.InterNetwork)
            return false;
        value = ToUInt(ip);
        return true;
    }

    private static (uint Network, int Bits) ParseCidr(string cidr)
    {
        var slash = cidr.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(cidr[..slash], out var ip) || ip.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(cidr[(slash + 1)..], out var bits) || bits is < 0 or > 32)
            throw new ArgumentException($"pod IP range '{cidr}' is not an IPv4 CIDR");
        var mask = bits == 0 ? 0u : uint.MaxValue << (32 - bits);
        return (ToUInt(ip) & mask, bits);
    }

    private static uint ToUInt(IPAddress ip)
    {
        var b = ip.GetAddressBytes();
        return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    }

    private static string Format(uint v) => $"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}";
}
