using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Host;

/// <summary>Runs iproute2's <c>ip</c> for the /32 addresses the node puts on the pod bridge (ClusterIPs, its DNS
/// address). Needs root (CAP_NET_ADMIN); failures are logged and reported as false/null, never thrown.</summary>
internal sealed class IpCommand(ILogger log)
{
    /// <summary>Adds <paramref name="address"/>/32 to <paramref name="device"/> with <paramref name="label"/>; true when
    /// it is there afterwards (an address that already exists counts: another node may have added it).</summary>
    public bool Add(string device, IPAddress address, string label) =>
        Exists(device, address) || Ip("addr", "add", $"{address}/32", "dev", device, "label", label) || Exists(device, address);

    /// <summary>Removes <paramref name="address"/>/32 from <paramref name="device"/>; true when it is gone afterwards
    /// (already gone counts: another node on the machine may have removed it first).</summary>
    public bool Delete(string device, IPAddress address) =>
        !Exists(device, address) || Ip("addr", "del", $"{address}/32", "dev", device) || !Exists(device, address);

    public bool Exists(string device, IPAddress address) => Addresses(device)?.Contains(address) == true;

    /// <summary>The /32 IPv4 addresses on <paramref name="device"/>; null when <c>ip</c> fails (no such device…).</summary>
    public IReadOnlySet<IPAddress>? Addresses(string device)
    {
        // "164: orch0    inet 172.28.128.3/32 scope global orch0:svc\ ..."
        var output = Run("-4", "-o", "addr", "show", "dev", device);
        return output is null ? null : ParseAddresses(output);
    }

    internal static IReadOnlySet<IPAddress> ParseAddresses(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Select(fields => Array.IndexOf(fields, "inet") is var i and >= 0 && i + 1 < fields.Length ? fields[i + 1] : null)
            .Where(cidr => cidr is not null && cidr.EndsWith("/32", StringComparison.Ordinal))
            .Select(cidr => IPAddress.TryParse(cidr![..^3], out var ip) ? ip : null)
            .OfType<IPAddress>()
            .ToHashSet();

    private bool Ip(params string[] args)
    {
        var ok = Run(args) is not null;
        if (!ok) log.LogWarning("ip {Args} failed", string.Join(' ', args));
        return ok;
    }

    private string? Run(params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit(5000);
            return process.ExitCode == 0 ? output : null;
        }
        catch (Exception e)
        {
            log.LogWarning("ip could not run: {Error}", e.Message);
            return null;
        }
    }
}
