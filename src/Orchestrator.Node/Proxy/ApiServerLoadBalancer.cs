using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// The node-local load balancer to the masters' API (k3s agents' pkg/agent/loadbalancer): a TCP pass-through on one
/// listen address, so TLS stays end to end and client certificates and tokens work as against a master. New
/// connections go to the current server while it is healthy and not suspected, else to the next healthy one in order
/// (suspected ones last); a connect failure marks that server failed and tries the next; with none healthy every
/// server is tried (a health check may be wrong, a connect is not). A new connection whose server sends nothing within
/// <see cref="FirstByteDeadline"/> of the client's first bytes (a paused master's kernel still completes handshakes)
/// is raced against the next server too, with those bytes replayed, and the first to answer keeps it (see
/// <c>ApiServerLoadBalancer.Connection.cs</c>); the silent one is suspected and checked at once. Servers are
/// health-checked every <see cref="ApiServerHealth.Interval"/>, each check bounded on its own; a server that fails
/// twice in a row has its open connections closed (its peer is dead or paused: a watch through it would hang), and
/// one that passes again takes new connections. Connections to a server that stays healthy live on when the list of
/// servers changes. It owns its listening socket and its connections, nothing else.
/// </summary>
internal sealed partial class ApiServerLoadBalancer : IAsyncDisposable
{
    private const int BufferSize = 16 * 1024;
    private const int FailuresBeforeDown = 2;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(3);
    // a suspected server is checked again this soon after a failed check until it passes or is down
    private static readonly TimeSpan SuspectRecheck = TimeSpan.FromSeconds(1);

    private readonly IPEndPoint _listen;
    private readonly ImmutableArray<DnsEndPoint> _configured;
    private readonly Func<DnsEndPoint, CancellationToken, Task<bool>> _healthy;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _checkTimeout;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private volatile Server[] _servers = [];
    private volatile Server? _current;
    private Socket? _listener;
    private Task _accepting = Task.CompletedTask;
    private Task _checking = Task.CompletedTask;

    /// <param name="configured">The masters' API addresses given by flag; kept even when others are learned.</param>
    /// <param name="healthy">The health check of one server (<see cref="ApiServerHealth.LivezAsync"/> by default).</param>
    /// <param name="checkTimeout">How long one check may take before it counts as failed (<see cref="ApiServerHealth.Timeout"/>).</param>
    public ApiServerLoadBalancer(IPEndPoint listen, IEnumerable<DnsEndPoint> configured, ILogger log,
        Func<DnsEndPoint, CancellationToken, Task<bool>>? healthy = null, TimeSpan? interval = null, TimeSpan? checkTimeout = null)
    {
        _listen = listen;
        _configured = [.. configured.Distinct()];
        _healthy = healthy ?? ApiServerHealth.LivezAsync;
        _interval = interval ?? ApiServerHealth.Interval;
        _checkTimeout = checkTimeout ?? ApiServerHealth.Timeout;
        _log = log;
        SetLearned([]);
    }

    /// <summary>Where it listens (the port chosen when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint?)_listener?.LocalEndPoint ?? _listen;

    /// <summary>The servers in order with whether each takes new connections.</summary>
    public IReadOnlyList<(DnsEndPoint Server, bool Healthy)> Servers => _servers.Select(s => (s.EndPoint, s.Healthy)).ToList();

    /// <summary>The servers that sent nothing in time to a new connection and have not passed a check since.</summary>
    internal IReadOnlyList<DnsEndPoint> Suspected => _servers.Where(s => s.Suspected).Select(s => s.EndPoint).ToList();

    /// <summary>How many connections are open through each server (a connection still racing counts for each server it
    /// waits on).</summary>
    internal IReadOnlyList<(DnsEndPoint Server, int Connections)> Connections => _servers.Select(s => (s.EndPoint, s.Count)).ToList();

    public void Start()
    {
        var listener = new Socket(_listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(_listen);
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        _listener = listener;
        _accepting = AcceptLoopAsync(listener);
        _checking = HealthLoopAsync();
        _log.LogInformation("API server load balancer on {Listen} to {Servers}", LocalEndPoint, string.Join(", ", _servers.Select(s => Format(s.EndPoint))));
    }

    /// <summary>The masters learned from the cluster (the default/kubernetes EndpointSlices), put before the configured
    /// ones. A server already known keeps its health and its connections; one no longer listed takes no new
    /// connections, and its open ones end when its peer does.</summary>
    public void SetLearned(IEnumerable<DnsEndPoint> learned)
    {
        lock (_gate)
        {
            var wanted = learned.Concat(_configured).Distinct().ToList();
            if (wanted.SequenceEqual(_servers.Select(s => s.EndPoint))) return;
            var known = _servers.ToDictionary(s => s.EndPoint);
            _servers = [.. wanted.Select(e => known.GetValueOrDefault(e) ?? new Server(e))];
            if (known.Count > 0)
                _log.LogInformation("API servers: {Servers}", string.Join(", ", _servers.Select(s => Format(s.EndPoint))));
        }
    }

    /// <summary>Runs every server's health check once, after any check already running for it.</summary>
    internal Task CheckHealthAsync(CancellationToken cancellation) => Task.WhenAll(_servers.Select(s => CheckAsync(s, cancellation, fresh: true)));

    /// <summary>Checks one server; a check already running for it is waited for, then (<paramref name="fresh"/>) one
    /// more is run, or (not fresh: the loop's rounds and the rechecks of a suspect) it is taken as this one, so no
    /// server has two checks at once (two at once would count one silence twice).</summary>
    private async Task CheckAsync(Server server, CancellationToken cancellation, bool fresh)
    {
        while (true)
        {
            Task running;
            lock (server)
            {
                if (server.Check is not { IsCompleted: false })
                {
                    running = server.Check = RunCheckAsync(server, cancellation);
                    fresh = false;
                }
                else running = server.Check;
            }
            await running;
            if (!fresh) return;
        }
    }

    /// <summary>One check of one server, bounded by its own timeout: a check that does not finish in time is a failed
    /// check of that server (before, a round that hit its timeout threw and reported nobody, so a paused master whose
    /// check always ran out was never marked down). Only stopping the balancer leaves it unreported.</summary>
    private async Task RunCheckAsync(Server server, CancellationToken cancellation)
    {
        await Task.Yield(); // never run a check inline under the server's lock
        var started = Stopwatch.GetTimestamp();
        bool passed;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _stop.Token);
        timeout.CancelAfter(_checkTimeout);
        try
        {
            // WaitAsync: a check that ignores its token is bounded too
            passed = await _healthy(server.EndPoint, timeout.Token).WaitAsync(_checkTimeout, _stop.Token);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return; }
        catch (Exception e)
        {
            // its own timeout, the caller's deadline, an error answer or none: a failed check
            _log.LogDebug("API server {Server} health check: {Error}", Format(server.EndPoint), e.Message);
            passed = false;
        }
        Report(server, passed, started);
    }

    private void Report(Server server, bool passed, long started)
    {
        if (passed)
        {
            server.Failures = 0;
            // a check begun before the server was suspected says nothing about the silence that made it suspect
            if (server.SuspectedAt is var since and not 0 && started > since
                && Interlocked.CompareExchange(ref server.SuspectedAt, 0, since) == since)
                _log.LogInformation("API server {Server} passed its health check; no longer suspected", Format(server.EndPoint));
            if (server.Healthy) return;
            server.Healthy = true;
            _log.LogInformation("API server {Server} is healthy again", Format(server.EndPoint));
            return;
        }
        if (Interlocked.Increment(ref server.Failures) < FailuresBeforeDown || !server.Healthy) return;
        server.Healthy = false;
        if (ReferenceEquals(_current, server)) _current = null;
        var closed = server.CloseAll();
        _log.LogWarning("API server {Server} failed its health check; {Count} connection(s) through it closed", Format(server.EndPoint), closed);
    }

    /// <summary>A server that sent nothing to a new connection in time: new connections prefer the others, and it is
    /// checked now and every <see cref="SuspectRecheck"/> after a failed check, until it passes (no longer suspected)
    /// or fails twice (down, its connections closed), instead of at the next round.</summary>
    private void Suspect(Server server)
    {
        if (Interlocked.CompareExchange(ref server.SuspectedAt, Math.Max(1, Stopwatch.GetTimestamp()), 0) != 0) return;
        if (ReferenceEquals(_current, server)) _current = null;
        _log.LogInformation("API server {Server} sent nothing within {Deadline} s of a new connection's first bytes; suspected: new connections go to the others while it is checked",
            Format(server.EndPoint), FirstByteDeadline.TotalSeconds);
        _ = RecheckSuspectedAsync(server);
    }

    private async Task RecheckSuspectedAsync(Server server)
    {
        try
        {
            while (!_stop.IsCancellationRequested && server.Suspected && server.Healthy)
            {
                await CheckAsync(server, _stop.Token, fresh: false);
                if (server.Suspected && server.Healthy) await Task.Delay(SuspectRecheck, _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
        catch (Exception e) { _log.LogDebug(e, "API server {Server} recheck failed", Format(server.EndPoint)); }
    }

    private async Task HealthLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                // each check is bounded by its own timeout (RunCheckAsync): the round ends with the slowest of them
                await Task.WhenAll(_servers.Select(s => CheckAsync(s, _stop.Token, fresh: false)));
                await Task.Delay(_interval, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return; }
            catch (Exception e) { _log.LogDebug(e, "API server health round failed"); }
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener.AcceptAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException e)
            {
                // a client that reset before we accepted it, or a full descriptor table: keep accepting
                _log.LogDebug("accept failed: {Error}", e.SocketErrorCode);
                continue;
            }
            _ = HandleAsync(client);
        }
    }

    /// <summary>The servers a new connection tries, in order: the current one, then the other healthy ones in list
    /// order, suspected ones last, then (only when none is healthy) every server.</summary>
    internal IReadOnlyList<DnsEndPoint> Candidates() => CandidateServers().Select(s => s.EndPoint).ToList();

    private List<Server> CandidateServers()
    {
        var servers = _servers;
        var healthy = servers.Where(s => s.Healthy).OrderBy(s => s.Suspected).ToList(); // a stable sort: list order kept
        if (healthy.Count == 0) return [.. servers.OrderBy(s => s.Suspected)];
        if (_current is { Healthy: true, Suspected: false } current && healthy.Remove(current)) healthy.Insert(0, current);
        return healthy;
    }

    /// <summary>Where a connection goes when its first server stays silent: the candidates, then the servers marked
    /// down (a check can be wrong under load; a server that answers is not).</summary>
    private List<Server> RaceOrder()
    {
        var candidates = CandidateServers();
        return [.. candidates, .. _servers.Where(s => !candidates.Contains(s))];
    }

    /// <summary>A candidate that refused or timed out a connect: as good as a failed health check (no new connection
    /// waits on it).</summary>
    private void Refused(Server server)
    {
        if (server.Healthy)
        {
            server.Healthy = false;
            server.Failures = FailuresBeforeDown;
            _log.LogWarning("API server {Server} refused a connection; trying the next", Format(server.EndPoint));
        }
        if (ReferenceEquals(_current, server)) _current = null;
    }

    /// <summary>The server that answered a new connection first takes the next ones, unless it was marked down or
    /// suspected meanwhile (a connection that raced a check must not bring back a server the check took out).</summary>
    private void Answered(Server server)
    {
        if (server is { Healthy: true, Suspected: false }) _current = server;
    }

    private async Task<Socket?> ConnectAsync(DnsEndPoint server)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(ConnectTimeout);
            await socket.ConnectAsync(server, timeout.Token);
            return socket;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            socket.Dispose();
            return null;
        }
    }

    internal static string Format(DnsEndPoint e) => e.Host.Contains(':') ? $"[{e.Host}]:{e.Port}" : $"{e.Host}:{e.Port}";

    /// <summary>host:port (an IPv6 host in brackets), as --api-servers and --api-server-proxy give it.</summary>
    public static DnsEndPoint ParseEndPoint(string value, string flag)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value[(colon + 1)..], System.Globalization.NumberStyles.None, null, out var port) || port is <= 0 or > 65535)
            throw new ArgumentException($"--{flag}: '{value}' is not host:port");
        var host = value[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        if (host.Length == 0 || (Uri.CheckHostName(host) == UriHostNameType.Unknown))
            throw new ArgumentException($"--{flag}: '{value}' is not host:port");
        return new DnsEndPoint(host, port);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _listener?.Dispose();
        foreach (var server in _servers) server.CloseAll();
        try { await Task.WhenAll(_accepting, _checking); }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { }
        _stop.Dispose();
    }

    /// <summary>One master's API address, its health and the upstream sockets open to it.</summary>
    private sealed class Server(DnsEndPoint endPoint)
    {
        private readonly ConcurrentDictionary<Link, byte> _links = new();
        public DnsEndPoint EndPoint { get; } = endPoint;
        // unchecked servers take connections: a balancer started before the masters answers as soon as one does
        public volatile bool Healthy = true;
        public int Failures;
        // when it was suspected (Stopwatch ticks), 0 when it is not
        public long SuspectedAt;
        // how many times its connections were closed for failed checks: a link made before the last time missed it
        public int Downs;
        public Task? Check;

        public bool Suspected => Interlocked.Read(ref SuspectedAt) != 0;
        public int Count => _links.Count;

        /// <summary>Registers a link begun when <see cref="Downs"/> was <paramref name="downs"/>; false (and the link
        /// aborted) when the server went down since, after its connections were closed.</summary>
        public bool Add(Link link, int downs)
        {
            _links.TryAdd(link, 0);
            if (Volatile.Read(ref Downs) == downs) return true;
            link.Abort();
            _links.TryRemove(link, out _);
            return false;
        }

        public void Remove(Link link) => _links.TryRemove(link, out _);

        public int CloseAll()
        {
            Interlocked.Increment(ref Downs);
            var count = 0;
            foreach (var link in _links.Keys)
            {
                link.Abort();
                count++;
            }
            return count;
        }
    }
}

/// <summary>The health check of a master's API: GET /livez over TLS. /livez, not /readyz: a master that does not hold
/// the control plane forwards /readyz to the one that does, so during a failover every follower would look down,
/// while it is the right place for a connection (it answers 503 with Retry-After until the new leader is up, then
/// forwards). The certificate is not checked here: the probe carries no credential and only decides routing; the
/// client checks the certificate of every connection it makes through the balancer. A TCP connect alone would not
/// do: the kernel accepts connections for a paused (SIGSTOP) master.</summary>
internal static class ApiServerHealth
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        ConnectTimeout = Timeout,
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    })
    { Timeout = Timeout };

    public static async Task<bool> LivezAsync(DnsEndPoint server, CancellationToken cancellation)
    {
        var host = server.Host.Contains(':') ? $"[{server.Host}]" : server.Host;
        using var response = await Client.GetAsync($"https://{host}:{server.Port}/livez", cancellation);
        return response.IsSuccessStatusCode;
    }
}
