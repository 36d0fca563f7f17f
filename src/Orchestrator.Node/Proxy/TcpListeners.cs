using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// The listening sockets of the service ports forwarded at L4 (every port whose appProtocol does not say HTTP, those
/// without one included). Their connections are not read by the proxy, so they are accepted here and handed to the
/// <see cref="TcpForwarder"/> as bare <see cref="Socket"/>s, without Kestrel's transport and its pipes in between (two
/// fewer buffer copies and thread hops per read). HTTP ports stay on Kestrel (YARP). A listener closed by
/// <see cref="Replace"/> stops accepting; connections it accepted live on (draining, as with Kestrel's listeners).
/// </summary>
internal sealed class TcpListeners : IDisposable
{
    /// <summary>How long a bind is retried: a port that moves here from Kestrel (its appProtocol changed) is released
    /// by Kestrel's reload a moment later, not before we bind.</summary>
    private static readonly TimeSpan BindRetryFor = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan BindRetryEvery = TimeSpan.FromMilliseconds(100);
    private const int Backlog = 512; // Kestrel's default

    private readonly Func<IPEndPoint, Socket, Task> _serve;
    private readonly ILogger _log;
    private readonly object _lock = new();
    private readonly Dictionary<IPEndPoint, CancellationTokenSource> _open = new();
    private bool _disposed;

    /// <param name="serve">Serves one accepted connection of a listener; owns (and disposes) the socket.</param>
    public TcpListeners(Func<IPEndPoint, Socket, Task> serve, ILogger log)
    {
        _serve = serve;
        _log = log;
    }

    public IReadOnlySet<IPEndPoint> Current
    {
        get { lock (_lock) return _open.Keys.ToHashSet(); }
    }

    /// <summary>Listens on exactly <paramref name="listeners"/> (shared ones with SO_REUSEPORT, see
    /// <see cref="SharedListenSockets"/>); whether the set changed.</summary>
    public bool Replace(IEnumerable<(IPEndPoint EndPoint, bool Shared)> listeners)
    {
        var wanted = listeners.ToDictionary(l => l.EndPoint, l => l.Shared);
        lock (_lock)
        {
            if (_disposed) return false;
            var changed = false;
            foreach (var gone in _open.Keys.Where(ep => !wanted.ContainsKey(ep)).ToList())
            {
                _open[gone].Cancel();
                _open.Remove(gone);
                changed = true;
            }
            foreach (var (endPoint, shared) in wanted.Where(w => !_open.ContainsKey(w.Key)))
            {
                var stop = new CancellationTokenSource();
                _open[endPoint] = stop;
                _ = ListenAsync(endPoint, shared, stop.Token);
                changed = true;
            }
            return changed;
        }
    }

    private async Task ListenAsync(IPEndPoint endPoint, bool shared, CancellationToken stop)
    {
        var socket = await BindAsync(endPoint, shared, stop);
        if (socket is null) return;
        using (socket)
        using (stop.Register(static s => ((Socket)s!).Dispose(), socket))
        {
            var backoff = new AcceptBackoff();
            while (!stop.IsCancellationRequested)
            {
                Socket client;
                try { client = await socket.AcceptAsync(); }
                catch (Exception) when (stop.IsCancellationRequested) { return; }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
                {
                    _log.LogDebug("A connection to {EndPoint} was reset before it was accepted", endPoint);
                    continue;
                }
                catch (SocketException e)
                {
                    // out of file descriptors (or another refusal that the next accept would meet at once): the
                    // listener stays and waits before it tries again, rather than spinning on the pending connection
                    var wait = backoff.Next();
                    _log.LogWarning("Accepting on {EndPoint} failed: {Error}; trying again in {Wait} ms", endPoint, e.SocketErrorCode, wait.TotalMilliseconds);
                    try { await Task.Delay(wait, stop); }
                    catch (OperationCanceledException) { return; }
                    continue;
                }
                backoff.Reset();
                _ = _serve(endPoint, client);
            }
        }
    }

    private async Task<Socket?> BindAsync(IPEndPoint endPoint, bool shared, CancellationToken stop)
    {
        var deadline = DateTime.UtcNow + BindRetryFor;
        while (true)
        {
            try
            {
                var socket = shared ? SharedListenSockets.BindShared(endPoint) : SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
                try { socket.Listen(Backlog); }
                catch
                {
                    socket.Dispose();
                    throw;
                }
                if (!stop.IsCancellationRequested) return socket;
                socket.Dispose();
                return null;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && DateTime.UtcNow < deadline)
            {
                try { await Task.Delay(BindRetryEvery, stop); }
                catch (OperationCanceledException) { return null; }
            }
            catch (SocketException e)
            {
                // as Kestrel does with a listener it cannot bind: logged, the others are unaffected
                _log.LogError("Proxy cannot listen on {EndPoint}: {Error}", endPoint, e.Message);
                return null;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var stop in _open.Values) stop.Cancel();
            _open.Clear();
        }
    }
}

/// <summary>How long an accept loop waits after each accept failure in a row: 5 ms, doubled each time up to 1 s (as Go's
/// http.Server waits on a temporary accept error), from the start again after an accept succeeds.</summary>
internal struct AcceptBackoff
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan Most = TimeSpan.FromSeconds(1);
    private TimeSpan _last;

    public TimeSpan Next() => _last = _last == TimeSpan.Zero ? First : (_last * 2 < Most ? _last * 2 : Most);

    public void Reset() => _last = TimeSpan.Zero;
}
