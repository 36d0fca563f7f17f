using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Proxy;

/// <summary>Runs iproute2's <c>ip</c> for the /32 addresses the node puts on the pod bridge (ClusterIPs, its DNS
/// address). Needs root (CAP_NET_ADMIN); failures are logged and reported as false/null, never thrown.</summary>
public sealed class IpCommand(ILogger log)
{
    /// <summary>Adds <paramref name="address"/>/32 to <paramref name="device"/> with <paramref name="label"/>; true when
    /// it is there afterwards (an address that already exists counts: another node may have added it).</summary>
    public bool Add(string device, IPAddress address, string label) =>
        Ip("addr", "add", $"{address}/32", "dev", device, "label", label) || Exists(device, address);

    /// <summary>Removes <paramref name="address"/>/32 from <paramref name="device"/>; true when it is gone afterwards.</summary>
    public bool Delete(string device, IPAddress address) =>
        Ip("addr", "del", $"{address}/32", "dev", device) || !Exists(device, address);

    public bool Exists(string device, IPAddress address) =>
        Run("-4", "-o", "addr", "show", "dev", device)?.Contains($" {address}/32 ", StringComparison.Ordinal) == true;

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
