using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Agent.Kubelet.Spdy;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent.Kubelet;

/// <summary>
/// /portForward/{ns}/{pod} — kubectl port-forward as kubectl 1.32 speaks it by default: a WebSocket with subprotocol
/// <c>SPDY/3.1+portforward.k8s.io</c> whose binary messages carry a SPDY/3.1 connection (client-go's tunneling
/// dialer; the master relays the WebSocket unchanged); or the WebSocket channel protocol other clients use
/// (<c>v4.channel.k8s.io</c>, <c>?port=</c>); or kubectl's plain SPDY/3.1 upgrade. The pod's ports are dialled on the container addresses on the node's
/// pod network, which the node process reaches directly.
/// </summary>
internal static class PortForwardSession
{
    public const string SpdyTunnelProtocol = "SPDY/3.1+portforward.k8s.io";
    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);

    public static async Task ServeAsync(HttpContext context, IContainerRuntime runtime, string ns, string pod, ILogger log)
    {
        var ct = context.RequestAborted;
        if (SpdyHandshake.IsSpdyUpgrade(context.Request))
        {
            await ServeSpdyAsync(context, runtime, ns, pod, log);
            return;
        }
        var requested = context.WebSockets.WebSocketRequestedProtocols;
        // kubectl's SPDY tunnel names its protocol; the master's relay of it names none (see AcceptTunnelAsync) and
        // sends no ports; the channel protocol names v4.channel.k8s.io (or nothing, as with the kubelet) with ports
        var channel = requested.Contains(ChannelPortForwarder.Protocol)
                      || requested.Count == 0 && context.Request.Query.ContainsKey("port");
        if (!context.WebSockets.IsWebSocketRequest || !channel && requested.Count > 0 && !requested.Contains(SpdyTunnelProtocol))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(
                $"port forwarding needs a WebSocket upgrade with subprotocol {SpdyTunnelProtocol} or {ChannelPortForwarder.Protocol}", ct);
            return;
        }
        var (ports, portError) = channel ? ChannelPortForwarder.ParsePorts(context.Request.Query["port"]) : ([], null);
        if (portError is not null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(portError, ct);
            return;
        }
        if (await PodAddressesOrNotFoundAsync(context, runtime, ns, pod, ct) is not { } addresses) return;

        Task<Socket> Dial(int port, CancellationToken token) => DialAsync(addresses, port, token);
        using var socket = channel
            ? await context.WebSockets.AcceptWebSocketAsync(requested.Count > 0 ? ChannelPortForwarder.Protocol : null)
            : await AcceptTunnelAsync(context, requested.Count > 0);
        if (channel)
        {
            await new ChannelPortForwarder(socket, ports, Dial, $"{ns}/{pod}", log).RunAsync(ct);
        }
        else
        {
            await using var transport = WebSocketStream.Create(socket, WebSocketMessageType.Binary, ownsWebSocket: false);
            await new SpdyPortForwarder(transport, Dial, $"{ns}/{pod}", log).RunAsync(ct);
        }
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct);
        }
        catch (WebSocketException) { }
    }

    public const string PortForwardProtocol = "portforward.k8s.io";

    /// <summary>The same SPDY connection as in the tunnel, straight on the upgraded HTTP/1.1 connection: kubectl's plain
    /// SPDY request (its fallback, or KUBECTL_PORT_FORWARD_WEBSOCKETS=false; older kubectl by default), HTTP/1.1
    /// <c>Upgrade: SPDY/3.1</c> with <c>X-Stream-Protocol-Version: portforward.k8s.io</c>.</summary>
    private static async Task ServeSpdyAsync(HttpContext context, IContainerRuntime runtime, string ns, string pod, ILogger log)
    {
        var ct = context.RequestAborted;
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var offered = SpdyHandshake.OfferedProtocols(context.Request);
        if (upgrade is not { IsUpgradableRequest: true } || !offered.Contains(PortForwardProtocol))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"port forwarding over SPDY needs an HTTP/1.1 upgrade offering {SpdyHandshake.ProtocolHeader}: {PortForwardProtocol}", ct);
            return;
        }
        if (await PodAddressesOrNotFoundAsync(context, runtime, ns, pod, ct) is not { } addresses) return;
        await using var stream = await SpdyHandshake.SwitchAsync(context, upgrade, PortForwardProtocol);
        await new SpdyPortForwarder(stream, (port, token) => DialAsync(addresses, port, token), $"{ns}/{pod}", log).RunAsync(ct);
    }

    /// <summary>
    /// Accepts with subprotocol <see cref="SpdyTunnelProtocol"/>, which .NET's WebSocket refuses to carry because '/'
    /// is not a token character (Go's clients send it anyway): the header is set on the 101 response by hand and the
    /// socket itself is told no subprotocol. The master's relay (a .NET client) asks for none, and gets none.
    /// </summary>
    internal static Task<WebSocket> AcceptTunnelAsync(HttpContext context, bool named)
    {
        if (named) context.Response.Headers.SecWebSocketProtocol = SpdyTunnelProtocol;
        return context.WebSockets.AcceptWebSocketAsync();
    }

    /// <summary>The pod's addresses, or null after answering 404 when none of its containers runs here.</summary>
    private static async Task<IReadOnlyList<IPAddress>?> PodAddressesOrNotFoundAsync(HttpContext context, IContainerRuntime runtime,
        string ns, string pod, CancellationToken ct)
    {
        var addresses = await PodAddressesAsync(runtime, ns, pod, ct);
        if (addresses.Count > 0) return addresses;
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        await context.Response.WriteAsync($"pod \"{pod}\" has no running container on this node", ct);
        return null;
    }

    /// <summary>The addresses of the pod's running containers, oldest first: a port is whichever of them listens on it.</summary>
    internal static async Task<IReadOnlyList<IPAddress>> PodAddressesAsync(IContainerRuntime runtime, string ns, string pod, CancellationToken ct)
    {
        var running = (await runtime.ListContainersAsync(null, ct))
            .Where(c => c.PodNamespace == ns && c.PodName == pod && c.Running)
            .OrderBy(c => c.CreatedAt);
        var addresses = new List<IPAddress>();
        foreach (var container in running)
        {
            var observed = await runtime.InspectContainerAsync(container.Id, ct);
            if (observed is { Running: true } && IPAddress.TryParse(observed.IpAddress, out var ip) && !addresses.Contains(ip))
                addresses.Add(ip);
        }
        return addresses;
    }

    private static async Task<Socket> DialAsync(IReadOnlyList<IPAddress> addresses, int port, CancellationToken ct)
    {
        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(DialTimeout);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostUnreachable);
    }
}
