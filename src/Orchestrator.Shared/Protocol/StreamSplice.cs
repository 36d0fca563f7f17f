namespace Orchestrator.Shared.Protocol;

/// <summary>
/// Two connections joined after an HTTP upgrade (kube's UpgradeAwareHandler): bytes are copied both ways as they come
/// until either side ends or fails, and then the splice ends, as kube's ends when one of its two copies returns (a
/// WebSocket or SPDY connection has no use for half a connection); with an idle timeout, also when nothing passed
/// either way for that long. The caller owns and closes both streams. Used by the master's relays of upgrades to a
/// node and by the node's relay of a proxied upgrade to a pod.
/// </summary>
public static class StreamSplice
{
    public static async Task RunAsync(Stream a, Stream b, TimeSpan? idle, CancellationToken ct)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Action touch = () => { };
        if (idle is { } timeout)
        {
            session.CancelAfter(timeout);
            touch = () =>
            {
                try { session.CancelAfter(timeout); }
                catch (ObjectDisposedException) { }
            };
        }
        var forward = CopyAsync(a, b, touch, session.Token);
        var backward = CopyAsync(b, a, touch, session.Token);
        await Task.WhenAny(forward, backward);
        await session.CancelAsync();
        await Task.WhenAll(forward, backward); // neither copy touches a stream once the caller closes them
    }

    private static async Task CopyAsync(Stream from, Stream to, Action touch, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, ct)) > 0)
            {
                touch();
                await to.WriteAsync(buffer.AsMemory(0, read), ct);
                await to.FlushAsync(ct);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or
                                       InvalidOperationException or System.Net.Sockets.SocketException) { }
    }
}
