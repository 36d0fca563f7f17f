using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Proxy;

/// <summary>How a service port's connections are proxied: HTTP through YARP, or raw TCP (<see cref="YarpConfigFromEndpoints.ModeOf"/>).
/// Public only because test theories take it as a parameter.</summary>
public enum ProxyMode { Http, Tcp }

/// <summary>The L4 view of one service port: its mode, its ready backends (pod IP:port) and session affinity (the
/// ClientIP timeout; null: none).</summary>
internal sealed record TcpRoute(string ClusterId, string Service, ProxyMode Mode, IReadOnlyList<IPEndPoint> Backends, TimeSpan? AffinityTimeout = null)
{
    private int _roundRobin;

    public bool ClientIpAffinity => AffinityTimeout is not null;

    /// <summary>The service port whose <see cref="ClientIpAffinity"/> table this route shares: every route of one port
    /// (its cluster-wide one, its node-local ones) holds a client to the same endpoint, as kube-proxy's lists are per
    /// endpoint whichever chain leads there.</summary>
    public string AffinityPort { get; init; } = ClusterId;

    /// <summary>The index of the backend the next connection tries first. A counter per service port, not one for
    /// all: with a shared one, connections that alternate between two services would each meet the same backends.</summary>
    public int NextStart() => (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)Backends.Count);
}

/// <summary>
/// kube-proxy's L4 forwarding for the service ports that are not HTTP by their appProtocol (all ports without one):
/// <see cref="TcpListeners"/> accepts their connections and calls <see cref="ServeAsync"/>, which picks a ready backend
/// per connection (round robin, or the client's last one with sessionAffinity ClientIP, <see cref="ClientIpAffinity"/>), falls through to the next one when
/// a connect fails or a NetworkPolicy denies it, and copies both ways until the connection ends. A connection lives on
/// when the endpoint set changes (connection draining: only new connections see the new set). With no backend to take
/// it the connection is reset, as kube-proxy's REJECT rule for a service without endpoints refuses it.
/// </summary>
internal sealed class TcpForwarder : IDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    private readonly Func<IPEndPoint, IPAddress?, TcpRoute?> _routeFor;
    private readonly ILogger _log;
    private readonly Services.IConnectionPolicy? _policy;
    private readonly ClientIpAffinity _affinity;

    /// <param name="routeFor">The route of a connection by its listener and client address (internalTrafficPolicy
    /// Local picks the client's node's endpoints).</param>
    /// <param name="policy">The NetworkPolicies: a backend the client may not reach is skipped as if it refused.</param>
    public TcpForwarder(Func<IPEndPoint, IPAddress?, TcpRoute?> routeFor, ILogger log, Services.IConnectionPolicy? policy = null,
        ClientIpAffinity? affinity = null)
    {
        _routeFor = routeFor;
        _log = log;
        _policy = policy;
        _affinity = affinity ?? new ClientIpAffinity();
    }

    internal static IPEndPoint Normalize(IPEndPoint ep) =>
        ep.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(ep.Address.MapToIPv4(), ep.Port) : ep;

    /// <summary>Serves one connection accepted by <see cref="TcpListeners"/> on <paramref name="listener"/>: picks a
    /// backend and hands both sockets to the <see cref="TcpCopyLoop"/> (where it is supported; else copies with
    /// <see cref="PumpAsync"/>, one loop per direction with one pooled buffer each). Owns <paramref name="client"/>.</summary>
    public async Task ServeAsync(IPEndPoint listener, Socket client)
    {
        Socket? backend = null;
        var handedOver = false;
        try
        {
            var address = client.RemoteEndPoint is IPEndPoint remote ? Normalize(remote).Address : null;
            if (_routeFor(listener, address) is not { } route)
            {
                Refuse(client); // the port stopped being an L4 service port between the accept and now
                return;
            }
            client.NoDelay = true; // as Kestrel's accepted sockets: small answers leave at once
            var started = Stopwatch.GetTimestamp();
            backend = await ConnectAsync(route, address, forCopyLoop: CopyLoop is not null);
            if (backend is null)
            {
                Diagnostics.NodeMetrics.ProxyRequest(route.ClusterId, "tcp", error: true, Stopwatch.GetElapsedTime(started));
                _log.LogDebug("No reachable backend for {Service} ({Count} ready): connection reset", route.Service, route.Backends.Count);
                Refuse(client);
                return;
            }
            // counted now, not when it ends: a long-lived connection shows in the endpoint's figures at once
            Diagnostics.NodeMetrics.ProxyConnectionOpened(route.ClusterId, backend.RemoteEndPoint is IPEndPoint ep ? Normalize(ep).ToString() : null);
            if (CopyLoop is { } loop)
            {
                loop.Add(client, backend, () => Diagnostics.NodeMetrics.ProxyConnectionEnded(route.ClusterId, Stopwatch.GetElapsedTime(started)));
                handedOver = true;
                return;
            }
            var toBackend = PumpAsync(client, backend);
            var toClient = PumpAsync(backend, client);
            var first = await Task.WhenAny(toBackend, toClient);
            // the client half-closed: let the backend finish its answer; the backend closed: we are done (the
            // sockets' disposal ends the other direction)
            if (first == toBackend) await toClient;
            else
            {
                backend.Dispose();
                client.Dispose();
                await toBackend;
            }
            Diagnostics.NodeMetrics.ProxyConnectionEnded(route.ClusterId, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _log.LogDebug("L4 connection on {Listener} ended: {Error}", listener, e.Message);
        }
        finally
        {
            if (!handedOver)
            {
                backend?.Dispose();
                client.Dispose();
            }
        }
    }

    /// <summary>Closes with a reset (SO_LINGER 0), not a FIN: the client sees its connection refused at once, as
    /// through kube-proxy's REJECT of a service without endpoints (or a pod's own refusal), never an empty answer
    /// that looks like a server which closed after accepting.</summary>
    private static void Refuse(Socket client)
    {
        try { client.LingerState = new LingerOption(true, 0); }
        catch (SocketException) { } // already reset by the client: closing is all that is left
        client.Dispose();
    }

    /// <summary>The thread that copies the L4 listeners' connections (<see cref="TcpCopyLoop"/>), started with the
    /// first one; null where it is not supported (the async <see cref="PumpAsync"/> copies instead).</summary>
    private TcpCopyLoop? CopyLoop => TcpCopyLoop.IsSupported ? LazyInitializer.EnsureInitialized(ref _copyLoop, ref _copyLoopLock, () => new TcpCopyLoop()) : null;

    private TcpCopyLoop? _copyLoop;
    private object? _copyLoopLock;

    public void Dispose() => _copyLoop?.Dispose();

    /// <summary>Bytes per read of an L4 connection, each direction: a pooled buffer held while the connection lives.</summary>
    internal const int PumpBufferSize = 16 * 1024;

    /// <summary>Copies from <paramref name="from"/> to <paramref name="to"/> until <paramref name="from"/> ends its
    /// sending (then half-closes <paramref name="to"/>: a FIN goes on as a FIN) or either fails.</summary>
    internal static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(PumpBufferSize);
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                for (var sent = 0; sent < read;)
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException) { }
        finally
        {
            // no receive is pending on the buffer any more: each await above has completed or thrown
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <param name="forCopyLoop">Connect without .NET's socket engine (<see cref="ConnectOutsideTheEngineAsync"/>):
    /// a socket it has seen stays in its epoll set, which would wake its thread on every read the copy loop does.</param>
    private async Task<Socket?> ConnectAsync(TcpRoute route, IPAddress? client, bool forCopyLoop)
    {
        var backends = route.Backends;
        if (backends.Count == 0) return null;
        var affinity = client is not null ? route.AffinityTimeout : null;
        var start = affinity is { } hold ? HeldIndex(route, client!, hold) ?? route.NextStart() : route.NextStart();
        for (var i = 0; i < backends.Count; i++)
        {
            var target = backends[(start + i) % backends.Count];
            if (client is not null && _policy?.Allows(client, target.Address, target.Port) == false)
            {
                _log.LogDebug("NetworkPolicy denies {Client} to {Backend} of {Service}", client, target, route.Service);
                continue;
            }
            var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                if (forCopyLoop) await ConnectOutsideTheEngineAsync(socket, target);
                else
                {
                    using var timeout = new CancellationTokenSource(ConnectTimeout);
                    await socket.ConnectAsync(target, timeout.Token);
                }
                // the endpoint the connection went to (after a fall-through too) is the one the client is held to now
                if (affinity is { } held) _affinity.Remember(route.AffinityPort, client!, target.ToString(), held);
                return socket;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                _log.LogDebug("Backend {Backend} of {Service} refused: {Error}", target, route.Service, e.Message);
            }
        }
        return null;
    }

    /// <summary>A non-blocking connect awaited with poll(2): the socket never enters .NET's socket engine. Pods on
    /// this machine's bridge answer (or refuse) within microseconds, so the first short poll runs on this thread; an
    /// address that stays silent (a lost node's pod) is polled again after growing delays, up to
    /// <see cref="ConnectTimeout"/>, holding no thread meanwhile (a thread each would be thousands of threads for a
    /// burst of connections to a lost pod).</summary>
    internal static async Task ConnectOutsideTheEngineAsync(Socket socket, IPEndPoint target)
    {
        socket.Blocking = false;
        try
        {
            socket.Connect(target);
            return;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress) { }
        var started = Stopwatch.GetTimestamp();
        var delay = 1;
        for (var poll = 1000; !socket.Poll(poll, SelectMode.SelectWrite); poll = 0)
        {
            if (Stopwatch.GetElapsedTime(started) >= ConnectTimeout) throw new SocketException((int)SocketError.TimedOut);
            await Task.Delay(delay);
            delay = Math.Min(delay * 2, 25);
        }
        if (socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error) is int error && error != 0)
            throw new SocketException((int)SocketError.ConnectionRefused);
    }

    /// <summary>The index of the backend <paramref name="client"/> is held to, while it is still one of the route's.</summary>
    private int? HeldIndex(TcpRoute route, IPAddress client, TimeSpan timeout)
    {
        if (_affinity.Lookup(route.AffinityPort, client, timeout) is not { } held || !IPEndPoint.TryParse(held, out var backend)) return null;
        for (var i = 0; i < route.Backends.Count; i++)
            if (route.Backends[i].Equals(backend)) return i;
        return null;
    }
}
