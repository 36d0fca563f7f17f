using System.Net.Http;
using System.Net.Sockets;
using Yarp.ReverseProxy.Forwarder;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// YARP's forwarder client with a short connect timeout. A pod whose node was lost keeps its endpoint until the node
/// is declared NotReady; its IP no longer answers ARP, so a connect to it hangs (no refusal) far longer than a client
/// waits. Failing the connect after <see cref="ConnectTimeout"/> as a connection error lets
/// <see cref="RetryOnConnectFailure"/> send the request to another pod, exactly as for a refused connection.
/// </summary>
internal sealed class BoundedConnectHttpClientFactory : ForwarderHttpClientFactory
{
    /// <summary>Pods are on this machine's bridge or a neighbour's: a healthy one accepts well within this.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectCallback = ConnectAsync;
    }

    /// <summary>A timed-out connect surfaces as a socket error, which the handler reports as
    /// <see cref="HttpRequestError.ConnectionError"/> (a plain timeout would look like a cancelled request).</summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellation)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(ConnectTimeout);
            await socket.ConnectAsync(context.DnsEndPoint, timeout.Token);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            socket.Dispose();
            throw new SocketException((int)SocketError.TimedOut);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
