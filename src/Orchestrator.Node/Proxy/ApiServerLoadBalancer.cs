using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// The node-local load balancer to the masters' API (k3s agents' pkg/agent/loadbalancer): a TCP pass-through on one
/// listen address, so TLS stays end to end and client certificates and tokens work as against a master. New
/// connections go to the current server while it is healthy, else to the next healthy one in order; a connect failure
/// marks that server failed and tries the next; with none healthy every server is tried (a health check may be
/// wrong, a connect is not). Servers are health-checked every <see cref="ApiServerHealth.Interval"/>; a server that
/// fails twice in a row has its open connections closed (its peer is dead or paused: a watch through it would hang),
/// and one that passes again takes new connections. Connections to a server that stays healthy live on when the list
/// of servers changes. It owns its listening socket and its connections, nothing else.
/// </summary>
internal sealed class ApiServerLoadBalancer : IAsyncDisposable
{
    private const int BufferSize = 16 * 1024;
    private const int FailuresBeforeDown = 2;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(3);

    private readonly IPEndPoint _listen;
    private readonly ImmutableArray<DnsEndPoint> _configured;
    private readonly Func<DnsEndPoint, CancellationToken, Task<bool>> _healthy;
    private readonly TimeSpan _interval;
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
    public ApiServerLoadBalancer(IPEndPoint listen, IEnumerable<DnsEndPoint> configured, ILogger log,
        Func<DnsEndPoint, CancellationToken, Task<bool>>? healthy = null, TimeSpan? interval = null)
    {
        _listen = listen;
        _configured = [.. configured.Distinct()];
        _healthy = healthy ?? ApiServerHealth.LivezAsync;
        _interval = interval ?? ApiServerHealth.Interval;
        _log = log;
        SetLearned([]);
    }

    /// <summary>Where it listens (the port chosen when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint?)_listener?.LocalEndPoint ?? _listen;

    /// <summary>The servers in order with whether each takes new connections.</summary>
    public IReadOnlyList<(DnsEndPoint Server, bool Healthy)> Servers => _servers.Select(s => (s.EndPoint, s.Healthy)).ToList();

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

    /// <summary>Runs every server's health check once (the loop does it every interval).</summary>
    internal async Task CheckHealthAsync(CancellationToken cancellation)
    {
        var servers = _servers;
        var results = await Task.WhenAll(servers.Select(async s =>
        {
            try { return await _healthy(s.EndPoint, cancellation); }
            catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested) { return false; }
        }));
        for (var i = 0; i < servers.Length; i++) Report(servers[i], results[i]);
    }

    private void Report(Server server, bool passed)
    {
        if (passed)
        {
            server.Failures = 0;
            if (server.Healthy) return;
            server.Healthy = true;
            _log.LogInformation("API server {Server} is healthy again", Format(server.EndPoint));
            return;
        }
        if (++server.Failures < FailuresBeforeDown || !server.Healthy) return;
        server.Healthy = false;
        if (ReferenceEquals(_current, server)) _current = null;
        var closed = server.CloseAll();
        _log.LogWarning("API server {Server} failed its health check; {Count} connection(s) through it closed", Format(server.EndPoint), closed);
    }

    private async Task HealthLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var round = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                round.CancelAfter(ApiServerHealth.Timeout);
                await CheckHealthAsync(round.Token);
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
    /// order, then (only when none is healthy) every server.</summary>
    internal IReadOnlyList<DnsEndPoint> Candidates() => CandidateServers().Select(s => s.EndPoint).ToList();

    private List<Server> CandidateServers()
    {
        var servers = _servers;
        var healthy = servers.Where(s => s.Healthy).ToList();
        if (healthy.Count == 0) return [.. servers];
        if (_current is { Healthy: true } current && healthy.Remove(current)) healthy.Insert(0, current);
        return healthy;
    }

    private async Task HandleAsync(Socket client)
    {
        client.NoDelay = true;
        Server? server = null;
        Socket? upstream = null;
        try
        {
            foreach (var candidate in CandidateServers())
            {
                upstream = await ConnectAsync(candidate.EndPoint);
                if (upstream is not null)
                {
                    server = candidate;
                    break;
                }
                // a refused or timed-out connect is as good as a failed health check: no new connection waits on it
                if (candidate.Healthy)
                {
                    candidate.Healthy = false;
                    candidate.Failures = FailuresBeforeDown;
                    _log.LogWarning("API server {Server} refused a connection; trying the next", Format(candidate.EndPoint));
                }
                if (ReferenceEquals(_current, candidate)) _current = null;
            }
            if (server is null || upstream is null)
            {
                _log.LogDebug("no API server took a connection from {Client}", client.RemoteEndPoint);
                return;
            }
            _current = server;
            var connection = new Connection(client, upstream);
            server.Add(connection);
            try { await connection.PumpAsync(); }
            finally { server.Remove(connection); }
        }
        catch (Exception e)
        {
            // never let one connection's failure reach the process
            _log.LogDebug(e, "API connection ended with an error");
        }
        finally
        {
            upstream?.Dispose();
            client.Dispose();
        }
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

    /// <summary>One master's API address, its health and the connections open through it.</summary>
    private sealed class Server(DnsEndPoint endPoint)
    {
        private readonly ConcurrentDictionary<Connection, byte> _connections = new();
        public DnsEndPoint EndPoint { get; } = endPoint;
        // unchecked servers take connections: a balancer started before the masters answers as soon as one does
        public volatile bool Healthy = true;
        public int Failures;

        public void Add(Connection connection) => _connections.TryAdd(connection, 0);
        public void Remove(Connection connection) => _connections.TryRemove(connection, out _);

        public int CloseAll()
        {
            var count = 0;
            foreach (var connection in _connections.Keys)
            {
                connection.Abort();
                count++;
            }
            return count;
        }
    }

    /// <summary>One client connection and its upstream: bytes copied both ways with pooled buffers; a half-close
    /// is passed on, a reset or error on either side ends both.</summary>
    private sealed class Connection(Socket client, Socket upstream)
    {
        public async Task PumpAsync()
        {
            var up = CopyAsync(client, upstream);
            var down = CopyAsync(upstream, client);
            // a side that ended cleanly half-closes the other and waits for its answer; an error ends both
            var first = await Task.WhenAny(up, down);
            if (!await first) Abort();
            await Task.WhenAll(up, down);
        }

        public void Abort()
        {
            try { client.Close(0); } catch (ObjectDisposedException) { }
            try { upstream.Close(0); } catch (ObjectDisposedException) { }
        }

        /// <summary>True when <paramref name="from"/> ended cleanly (and <paramref name="to"/> got the half-close).</summary>
        private static async Task<bool> CopyAsync(Socket from, Socket to)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                while (true)
                {
                    var read = await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None);
                    if (read == 0)
                    {
                        to.Shutdown(SocketShutdown.Send);
                        return true;
                    }
                    var sent = 0;
                    while (sent < read) sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
                return false;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
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
