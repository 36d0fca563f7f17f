using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// Kestrel's listen-socket factory (<see cref="SocketTransportOptions.CreateBoundListenSocket"/>) for the proxy. Every
/// node process on a machine serves the same ClusterIPs and loopback externalIPs, so their listeners must be
/// bindable by several processes at once: those sockets get SO_REUSEPORT before bind (Linux then spreads the incoming
/// connections over the processes, and when one node stops the others keep accepting). Every other socket — the
/// node's own NodePorts, the status and kubelet endpoints — is bound the default way, so a second process on the
/// same address:port still fails loudly instead of silently sharing.
/// </summary>
internal sealed class SharedListenSockets
{
    // <sys/socket.h> on Linux; .NET has no SocketOptionName for it
    private const int SolSocket = 1;
    private const int SoReusePort = 15;

    private volatile IReadOnlySet<IPEndPoint> _shared = new HashSet<IPEndPoint>();

    /// <summary>The endpoints to bind shared, set by the proxy before it asks Kestrel to bind them.</summary>
    public IReadOnlySet<IPEndPoint> Shared
    {
        get => _shared;
        set => _shared = value;
    }

    public Socket Create(EndPoint endPoint) =>
        endPoint is IPEndPoint ip && _shared.Contains(ip) ? BindShared(ip) : SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);

    /// <summary>A TCP socket bound to <paramref name="endPoint"/> with SO_REUSEPORT (not yet listening).</summary>
    public static Socket BindShared(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (OperatingSystem.IsLinux()) socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            socket.Bind(endPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Whether SO_REUSEPORT is set on <paramref name="socket"/> (for tests and diagnostics).</summary>
    public static bool IsShared(Socket socket)
    {
        if (!OperatingSystem.IsLinux()) return false;
        var value = new byte[4];
        socket.GetRawSocketOption(SolSocket, SoReusePort, value);
        return BitConverter.ToInt32(value) != 0;
    }
}
