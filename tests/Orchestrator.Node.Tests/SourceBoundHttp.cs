using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Node.Tests;

/// <summary>An HttpClient whose every request goes on a new connection from <c>source</c>: a client of that address, as
/// a pod of a given node is to the proxy (which tells the client's node from it).</summary>
internal static class SourceBoundHttp
{
    public static HttpClient Client(IPAddress source) => new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.Zero,
        ConnectCallback = async (context, token) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    }) { Timeout = TimeSpan.FromSeconds(5) };
}
