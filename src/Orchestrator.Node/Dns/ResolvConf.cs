using System.Net;

namespace Orchestrator.Node.Dns;

/// <summary>The upstream name servers of a resolv.conf file (the kubelet's <c>--resolv-conf</c>): its
/// <c>nameserver</c> lines, in order. A missing or unreadable file means no upstreams: other names answer SERVFAIL.</summary>
internal static class ResolvConf
{
    public static IReadOnlyList<IPAddress> Nameservers(string path)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
        return lines
            .Select(l => l.Trim().Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts.Length >= 2 && parts[0] == "nameserver")
            .Select(parts => IPAddress.TryParse(parts[1], out var ip) ? ip : null)
            .OfType<IPAddress>()
            .ToList();
    }
}
