using System.Net.WebSockets;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// /api/v1/namespaces/{ns}/pods/{name}/portforward — kubectl 1.32 opens a WebSocket with subprotocol
/// <c>SPDY/3.1+portforward.k8s.io</c> and speaks SPDY/3.1 inside its binary messages (PortForwardWebsockets, on by
/// default); only if the upgrade is refused (or with KUBECTL_PORT_FORWARD_WEBSOCKETS=false) does it use a plain
/// HTTP/1.1 SPDY/3.1 upgrade, relayed by <see cref="SpdyUpgradeRelay"/>. Other clients use the
/// WebSocket channel protocol (<c>v4.channel.k8s.io</c>, ports in <c>?ports=</c>). The relay opens the
/// same WebSocket to the kubelet endpoint of the pod's node and copies messages both ways unchanged: the streams,
/// and dialling the pod's ports, are the node's business.
/// </summary>
internal sealed class PodPortForward(KubeletConnection kubelet, ILogger<PodPortForward> log) : ISubresourceHandler
{
    public string Group => "";
    public string Resource => "pods";
    public string Subresource => "portforward";

    public Task HandleAsync(HttpContext context, ResourceDescription resource, string? ns, string name) =>
        HandleAsync(context, ns!, name);

    public const string SpdyTunnelProtocol = "SPDY/3.1+portforward.k8s.io";
    /// <summary>The WebSocket channel protocol other clients (C#, Python) use, with the ports in <c>?ports=</c>.</summary>
    public const string ChannelProtocol = "v4.channel.k8s.io";

    public async Task HandleAsync(HttpContext context, string ns, string name)
    {
        var ct = context.RequestAborted;
        var pod = await kubelet.GetPodAsync(ns, name, ct);
        if (pod.Status?.Phase != "Running")
            throw ApiException.BadRequest($"unable to forward port because pod is not running. Current status={pod.Status?.Phase ?? "Unknown"}");
        if (SpdyUpgradeRelay.IsSpdyUpgrade(context.Request))
        {
            await SpdyUpgradeRelay.RelayAsync(context, kubelet, pod, $"/portForward/{Uri.EscapeDataString(ns)}/{Uri.EscapeDataString(name)}",
                SpdyUpgradeRelay.PortForwardProtocols, "port forwarding", ct);
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
            throw ApiException.BadRequest($"Upgrade request required: port forwarding is served over WebSockets ({SpdyTunnelProtocol}, {ChannelProtocol}) or SPDY/3.1");
        var requested = context.WebSockets.WebSocketRequestedProtocols;
        // the channel protocol by name, or with no subprotocol at all (the kubelet's "" entry: the same channels)
        var unnamed = requested.Count == 0;
        var channel = !requested.Contains(SpdyTunnelProtocol) && (unnamed || requested.Contains(ChannelProtocol));
        if (!channel && !requested.Contains(SpdyTunnelProtocol))
            throw ApiException.BadRequest($"unsupported subprotocol; supported: {SpdyTunnelProtocol}, {ChannelProtocol}");
        var ports = context.Request.Query["ports"].Where(p => !string.IsNullOrEmpty(p)).ToList();
        if (channel && ports.Count == 0)
            throw ApiException.BadRequest("query parameter \"ports\" is required");
        var (host, port) = await kubelet.NodeEndpointAsync(pod, ct);

        var query = channel ? "?" + string.Join("&", ports.Select(p => "port=" + Uri.EscapeDataString(p!))) : "";
        var uri = new Uri($"wss://{host}:{port}/portForward/{Uri.EscapeDataString(ns)}/{Uri.EscapeDataString(name)}{query}");
        using var node = new ClientWebSocket();
        kubelet.Secure(node, pod.Spec.NodeName, host);
        // .NET's client refuses to name SPDY/3.1+portforward.k8s.io ('/' is not a token character); the node's
        // portForward path means that protocol when none is named and no ports are given
        if (channel && !unnamed) node.Options.AddSubProtocol(ChannelProtocol);
        using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            connecting.CancelAfter(kubelet.Timeouts.Response);
            try
            {
                await node.ConnectAsync(uri, connecting.Token);
            }
            catch (WebSocketException e)
            {
                throw ApiException.Unavailable($"the node {pod.Spec.NodeName} refused port forwarding to pod {name}: {kubelet.Why(pod.Spec.NodeName, host, e)}");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw kubelet.NoAnswer(pod.Spec.NodeName, "port forwarding");
            }
        }

        // .NET's server socket refuses the SPDY name too: the 101 carries it by hand, the socket is told none
        if (!channel) context.Response.Headers.SecWebSocketProtocol = SpdyTunnelProtocol;
        using var client = await context.WebSockets.AcceptWebSocketAsync(channel && !unnamed ? ChannelProtocol : null);
        // kubectl ends the session when it stops (^C), the node when the pod goes away; the other side follows
        await WebSocketRelay.RelayAsync(node, client, kubelet.Timeouts.StreamIdle, TimeSpan.FromSeconds(2), nodeEnds: false, ct);
        log.LogDebug("port forwarding to {Namespace}/{Pod} ended", ns, name);
    }
}
