using System.Diagnostics;
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Proxy;

/// <summary>How a service port's connections are proxied: HTTP through YARP, raw TCP, or decided per connection.
/// Public only because test theories take it as a parameter.</summary>
public enum ProxyMode { Sniff, Http, Tcp }

/// <summary>The L4 view of one service port: its mode, its ready backends (pod IP:port) and session affinity.</summary>
internal sealed record TcpRoute(string ClusterId, string Service, ProxyMode Mode, IReadOnlyList<IPEndPoint> Backends, bool ClientIpAffinity);

/// <summary>
/// Kestrel connection middleware in front of every service listener. A port whose appProtocol says HTTP goes to the
/// HTTP pipeline (YARP); one that says anything else is forwarded at L4 (such ports are normally not on Kestrel at all:
/// <see cref="TcpListeners"/> accepts them and calls <see cref="ServeAsync"/>); otherwise the first bytes decide: a client
/// that starts with an HTTP method is HTTP, any other first bytes — or silence for <see cref="SniffTimeout"/>, as
/// with server-speaks-first protocols — mean TCP. L4 connections pick a ready backend (round robin, or by client
/// address with sessionAffinity ClientIP), fall through to the next one when a connect fails, and live on when the
/// endpoint set changes (connection draining: only new connections see the new set).
/// </summary>
internal sealed class TcpForwarder : IDisposable
{
    public static readonly TimeSpan SniffTimeout = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);
    private static readonly byte[][] Methods =
        new[] { "GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ", "PRI * HTTP/2" }
            .Select(m => Encoding.ASCII.GetBytes(m)).ToArray();

    private readonly Func<IPEndPoint, TcpRoute?> _routeFor;
    private readonly ILogger _log;
    private readonly Services.IConnectionPolicy? _policy;
    private int _roundRobin;

    /// <param name="policy">The NetworkPolicies: a backend the client may not reach is skipped as if it refused.</param>
    public TcpForwarder(Func<IPEndPoint, TcpRoute?> routeFor, ILogger log, Services.IConnectionPolicy? policy = null)
    {
        _routeFor = routeFor;
        _log = log;
        _policy = policy;
    }

    public ConnectionDelegate Middleware(ConnectionDelegate next) => connection => OnConnectionAsync(connection, next);

    private async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        if (connection.LocalEndPoint is not IPEndPoint local || _routeFor(Normalize(local)) is not { } route)
        {
            await next(connection);
            return;
        }
        var mode = route.Mode == ProxyMode.Sniff ? await SniffAsync(connection.Transport.Input, connection.ConnectionClosed) : route.Mode;
        if (mode == ProxyMode.Http) await next(connection);
        else await ForwardAsync(connection, _routeFor(Normalize(local)) ?? route);
    }

    internal static IPEndPoint Normalize(IPEndPoint ep) =>
        ep.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(ep.Address.MapToIPv4(), ep.Port) : ep;

    /// <summary>Reads without consuming until the first bytes decide; whatever was read stays for the next reader.</summary>
    internal static async Task<ProxyMode> SniffAsync(PipeReader input, CancellationToken closed)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closed);
        timeout.CancelAfter(SniffTimeout);
        while (true)
        {
            ReadResult result;
            try { result = await input.ReadAsync(timeout.Token); }
            catch (OperationCanceledException) { return ProxyMode.Tcp; }
            var verdict = Classify(result.Buffer);
            if (verdict is not null || result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(result.Buffer.Start); // nothing consumed, nothing examined: the next reader sees it all
                return verdict ?? ProxyMode.Tcp;
            }
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>HTTP when the bytes start with a method, TCP when they cannot, null while they are a prefix of one.</summary>
    internal static ProxyMode? Classify(ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length == 0) return null;
        Span<byte> head = stackalloc byte[12];
        var n = (int)Math.Min(buffer.Length, head.Length);
        buffer.Slice(0, n).CopyTo(head);
        var seen = head[..n];
        var prefixOfSome = false;
        foreach (var method in Methods)
        {
            if (seen.Length >= method.Length && seen[..method.Length].SequenceEqual(method)) return ProxyMode.Http;
            if (seen.Length < method.Length && method.AsSpan(0, seen.Length).SequenceEqual(seen)) prefixOfSome = true;
        }
        return prefixOfSome ? null : ProxyMode.Tcp;
    }

    private async Task ForwardAsync(ConnectionContext connection, TcpRoute route)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var client = connection.RemoteEndPoint as IPEndPoint;
        using var backend = await ConnectAsync(route, client?.Address, connection.ConnectionClosed);
        if (backend is null)
        {
            Diagnostics.NodeMetrics.ProxyRequest(route.ClusterId, "tcp", error: true, System.Diagnostics.Stopwatch.GetElapsedTime(started));
            _log.LogDebug("No reachable backend for {Service} ({Count} ready)", route.Service, route.Backends.Count);
            return;
        }
        await using var stream = new NetworkStream(backend, ownsSocket: false);
        var toBackend = CopyToBackendAsync(connection.Transport.Input, stream, backend);
        var toClient = CopyToClientAsync(stream, connection.Transport.Output);
        var first = await Task.WhenAny(toBackend, toClient);
        // the client half-closed: let the backend finish its answer; the backend closed: we are done
        if (first == toBackend) await toClient;
        Diagnostics.NodeMetrics.ProxyRequest(route.ClusterId, "tcp", error: false, System.Diagnostics.Stopwatch.GetElapsedTime(started),
            backend.RemoteEndPoint is IPEndPoint ep ? Normalize(ep).ToString() : null);
    }

    /// <summary>Serves one connection accepted by <see cref="TcpListeners"/> on <paramref name="listener"/>: picks a
    /// backend as <see cref="ForwardAsync"/> does and hands both sockets to the <see cref="TcpCopyLoop"/> (where it is
    /// supported; else copies with <see cref="PumpAsync"/>, one loop per direction with one pooled buffer each). Owns
    /// <paramref name="client"/>.</summary>
    public async Task ServeAsync(IPEndPoint listener, Socket client)
    {
        Socket? backend = null;
        var handedOver = false;
        try
        {
            if (_routeFor(listener) is not { } route) return;
            client.NoDelay = true; // as Kestrel's accepted sockets: small answers leave at once
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var address = client.RemoteEndPoint is IPEndPoint remote ? Normalize(remote).Address : null;
            backend = await ConnectAsync(route, address, CancellationToken.None, forCopyLoop: CopyLoop is not null);
            if (backend is null)
            {
                Diagnostics.NodeMetrics.ProxyRequest(route.ClusterId, "tcp", error: true, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                _log.LogDebug("No reachable backend for {Service} ({Count} ready)", route.Service, route.Backends.Count);
                return;
            }
            var endpoint = backend.RemoteEndPoint is IPEndPoint ep ? Normalize(ep).ToString() : null;
            if (CopyLoop is { } loop)
            {
                loop.Add(client, backend, () => Diagnostics.NodeMetrics.ProxyRequest(route.ClusterId, "tcp", error: false,
                    System.Diagnostics.Stopwatch.GetElapsedTime(started), endpoint));
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
            Diagnostics.NodeMetrics.ProxyRequest(route.ClusterId, "tcp", error: false, System.Diagnostics.Stopwatch.GetElapsedTime(started), endpoint);
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
    private async Task<Socket?> ConnectAsync(TcpRoute route, IPAddress? client, CancellationToken closed, bool forCopyLoop = false)
    {
        var backends = route.Backends;
        if (backends.Count == 0) return null;
        var start = route.ClientIpAffinity && client is not null
            ? (int)(StableHash(client.ToString()) % (uint)backends.Count)
            : (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)backends.Count);
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
                if (forCopyLoop)
                {
                    await ConnectOutsideTheEngineAsync(socket, target);
                    return socket;
                }
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closed);
                timeout.CancelAfter(ConnectTimeout);
                await socket.ConnectAsync(target, timeout.Token);
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

    private static async Task CopyToBackendAsync(PipeReader input, NetworkStream stream, Socket backend)
    {
        try
        {
            await input.CopyToAsync(stream);
            backend.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or ConnectionResetException or OperationCanceledException) { }
    }

    private static async Task CopyToClientAsync(NetworkStream stream, PipeWriter output)
    {
        try { await stream.CopyToAsync(output); }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException) { }
        await output.CompleteAsync();
    }

    internal static uint StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var ch in text) hash = unchecked((hash ^ ch) * 16777619u);
        return hash;
    }
}
