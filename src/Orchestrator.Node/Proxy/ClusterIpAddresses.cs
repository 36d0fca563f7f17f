using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// Makes ClusterIPs local addresses of the host, on the pod network's bridge interface: each one is added as a /32
/// with the label <c>&lt;bridge&gt;:svc</c> (<c>ip addr add 172.28.128.5/32 dev orch0 label orch0:svc</c>). The
/// ClusterIP range is part of the bridge's subnet, so a pod that connects to a ClusterIP ARPs for it on its own link,
/// the host answers (the address is local on that interface), and the proxy's listener on ClusterIP:port accepts.
/// Addresses of services that are gone are removed. Only addresses this process added are ever removed (another
/// node on the same machine may serve its own); what a killed node left behind stays until <c>deploy/down.sh</c>
/// flushes the label, and is harmless meanwhile (an address that already exists counts as added). Needs root (CAP_NET_ADMIN);
/// without it ClusterIPs stay unserved and the failure is logged once per address.
/// </summary>
public sealed class ClusterIpAddresses
{
    private readonly string? _bridge;
    private readonly ILogger _log;
    private readonly HashSet<IPAddress> _present = new();

    public ClusterIpAddresses(string? bridge, ILogger log)
    {
        _bridge = bridge;
        _log = log;
    }

    public bool Enabled => _bridge is not null;

    public string Label => $"{_bridge}:svc";

    /// <summary>Converges the bridge's labelled addresses on <paramref name="wanted"/>; returns the ones present after.</summary>
    public IReadOnlySet<IPAddress> Ensure(IEnumerable<IPAddress> wanted)
    {
        if (_bridge is null) return _present;
        var target = wanted.ToHashSet();
        foreach (var gone in _present.Where(a => !target.Contains(a)).ToList())
            if (Ip("addr", "del", $"{gone}/32", "dev", _bridge) || !Exists(gone)) _present.Remove(gone);
        foreach (var added in target.Where(a => !_present.Contains(a)))
        {
            if (Ip("addr", "add", $"{added}/32", "dev", _bridge, "label", Label) || Exists(added)) _present.Add(added);
        }
        return _present;
    }

    private bool Exists(IPAddress address) =>
        Run("-4", "-o", "addr", "show", "dev", _bridge!)?.Contains($" {address}/32 ", StringComparison.Ordinal) == true;

    private bool Ip(params string[] args)
    {
        var ok = Run(args) is not null;
        if (!ok) _log.LogWarning("ip {Args} failed", string.Join(' ', args));
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
            _log.LogWarning("ip could not run: {Error}", e.Message);
            return null;
        }
    }
}
