using System.Collections.Concurrent;
using System.Net;
using k8s.Models;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// Service <c>sessionAffinity: ClientIP</c> as kube-proxy's iptables rules keep it (the <c>recent</c> match): per service
/// port, the endpoint each client address last went to and when. A new connection (L4) or request (HTTP) from that
/// address goes to the same endpoint while it is still a candidate and the client was last seen less than
/// <c>sessionAffinityConfig.clientIP.timeoutSeconds</c> ago (default 10800); going there restarts the timer. Otherwise
/// the endpoint is picked as without affinity and remembered. Tables live across configuration changes (kube-proxy's
/// lists outlive its rule syncs), one per service port that has affinity; a port that loses it drops its table. Expired
/// entries are swept as new ones come, and a table keeps at most <see cref="MaxClients"/> clients (the least recently
/// seen go first), so neither a long timeout nor many clients grows it without bound.
/// </summary>
internal sealed class ClientIpAffinity(TimeProvider? time = null)
{
    /// <summary>Kubernetes' default timeout (DefaultClientIPServiceAffinitySeconds, 3 hours).</summary>
    public const int DefaultTimeoutSeconds = 10800;

    /// <summary>The clients a table remembers at most (xt_recent keeps 100 a list by default; a proxy node sees more).</summary>
    public const int MaxClients = 65536;

    /// <summary>How often a table is swept for expired entries at most.</summary>
    private static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Table> _tables = new(StringComparer.Ordinal);

    /// <summary>The service's affinity timeout; null without ClientIP affinity. An unset or out-of-range value (the API
    /// defaults and validates it) counts as the default.</summary>
    public static TimeSpan? TimeoutOf(V1Service service) =>
        service.Spec?.SessionAffinity != "ClientIP" ? null
        : TimeSpan.FromSeconds(service.Spec.SessionAffinityConfig?.ClientIP?.TimeoutSeconds is > 0 and <= 86400 and var seconds ? seconds : DefaultTimeoutSeconds);

    /// <summary>The endpoint (ip:port) <paramref name="client"/> is held to on <paramref name="port"/>, if it was seen
    /// there less than <paramref name="timeout"/> ago; only looks.</summary>
    public string? Lookup(string port, IPAddress client, TimeSpan timeout) =>
        _tables.TryGetValue(port, out var table) && table.Entries.TryGetValue(client, out var entry)
        && _time.GetElapsedTime(entry.Seen, _time.GetTimestamp()) < timeout
            ? entry.Backend
            : null;

    /// <summary>Records that <paramref name="client"/> went to <paramref name="backend"/> now (kube-proxy's --set).</summary>
    public void Remember(string port, IPAddress client, string backend, TimeSpan timeout)
    {
        var table = _tables.GetOrAdd(port, static _ => new Table());
        var now = _time.GetTimestamp();
        table.Entries[client] = new Entry(backend, now);
        var sweep = Interlocked.Read(ref table.NextSweep);
        // one sweep at a time: the sweeper parks NextSweep at long.MaxValue until it is done
        if (sweep != long.MaxValue && (now >= sweep || table.Entries.Count > MaxClients)
            && Interlocked.CompareExchange(ref table.NextSweep, long.MaxValue, sweep) == sweep)
        {
            Sweep(table, now, timeout);
            var every = timeout < SweepEvery ? timeout : SweepEvery;
            Interlocked.Exchange(ref table.NextSweep, now + (long)(every.TotalSeconds * _time.TimestampFrequency));
        }
    }

    /// <summary>The next value of the port's round robin, which places the clients it holds no endpoint for.</summary>
    public int NextRoundRobin(string port) => Interlocked.Increment(ref _tables.GetOrAdd(port, static _ => new Table()).RoundRobin);

    /// <summary>Drops the tables of ports that no longer have affinity (or are gone).</summary>
    public void Retain(IReadOnlySet<string> ports)
    {
        foreach (var port in _tables.Keys)
            if (!ports.Contains(port)) _tables.TryRemove(port, out _);
    }

    /// <summary>How many clients a port's table holds (for tests and diagnostics).</summary>
    public int Count(string port) => _tables.TryGetValue(port, out var table) ? table.Entries.Count : 0;

    private void Sweep(Table table, long now, TimeSpan timeout)
    {
        foreach (var (client, entry) in table.Entries)
            if (_time.GetElapsedTime(entry.Seen, now) >= timeout) table.Entries.TryRemove(new KeyValuePair<IPAddress, Entry>(client, entry));
        var over = table.Entries.Count - MaxClients;
        if (over <= 0) return;
        // still too many live clients: the least recently seen go, down to 3/4 so the next few do not sort again
        over += MaxClients / 4;
        foreach (var (client, entry) in table.Entries.OrderBy(e => e.Value.Seen).Take(over).ToList())
            table.Entries.TryRemove(new KeyValuePair<IPAddress, Entry>(client, entry));
    }

    private readonly record struct Entry(string Backend, long Seen);

    private sealed class Table
    {
        public readonly ConcurrentDictionary<IPAddress, Entry> Entries = new();
        public long NextSweep;
        public int RoundRobin;
    }
}
