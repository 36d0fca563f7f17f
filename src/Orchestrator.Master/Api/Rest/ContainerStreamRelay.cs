using System.Net.WebSockets;
using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// exec and attach: kubectl 1.32 opens a WebSocket (subprotocol v5.channel.k8s.io, falling back to SPDY when the
/// upgrade is refused); other clients name v4.channel.k8s.io, channel.k8s.io or no subprotocol (the KubernetesClient
/// library's WebSocketNamespacedPodExecAsync by default), all of which the kubelet serves. The relay opens the same WebSocket to the kubelet endpoint of the pod's node, accepts the
/// client with the subprotocol the node chose, and copies messages both ways unchanged: the channel protocol
/// (stdin/stdout/stderr/error/resize/close) is the node's business. A plain <c>Upgrade: SPDY/3.1</c> (client-go's
/// SPDY executor, KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false) is relayed byte for byte by <see cref="SpdyUpgradeRelay"/>.
/// </summary>
internal static class ContainerStreamRelay
{
    public static readonly string[] Supported = ["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"];

    public static async Task RelayAsync(HttpContext context, KubeletConnection kubelet, string ns, string name, string endpoint,
        IEnumerable<string> forwardedKeys, ILogger log)
    {
        var spdy = SpdyUpgradeRelay.IsSpdyUpgrade(context.Request);
        if (!spdy && !context.WebSockets.IsWebSocketRequest)
            throw ApiException.BadRequest($"Upgrade request required: {endpoint} is served over WebSockets ({string.Join(", ", Supported)}) or SPDY/3.1");
        var ct = context.RequestAborted;
        var query = context.Request.Query;
        var target = await kubelet.ResolveAsync(ns, name, query["container"].ToString(), ct);
        if (spdy)
        {
            await SpdyUpgradeRelay.RelayAsync(context, kubelet, target.Pod, $"{target.Path(endpoint)}?{string.Join("&", Forwarded(query, forwardedKeys))}",
                SpdyUpgradeRelay.RemoteCommandProtocols, endpoint, ct);
            log.LogDebug("SPDY {Endpoint} in {Namespace}/{Pod}/{Container} ended", endpoint, ns, name, target.Container);
            return;
        }
        // a client that names no subprotocol gets the kubelet's oldest, binary channels (its "" entry): the node is
        // asked without one too
        var asked = context.WebSockets.WebSocketRequestedProtocols;
        var requested = asked.Where(Supported.Contains).ToList();
        if (asked.Count > 0 && requested.Count == 0)
            throw ApiException.BadRequest($"unsupported subprotocol; supported: {string.Join(", ", Supported)}");

        var uri = new Uri($"wss://{target.Host}:{target.Port}{target.Path(endpoint)}?{string.Join("&", Forwarded(query, forwardedKeys))}");
        using var node = new ClientWebSocket();
        kubelet.Secure(node, target.Pod.Spec.NodeName, target.Host);
        foreach (var protocol in requested) node.Options.AddSubProtocol(protocol);
        using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            connecting.CancelAfter(kubelet.Timeouts.Response);
            try
            {
                await node.ConnectAsync(uri, connecting.Token);
            }
            catch (WebSocketException e)
            {
                throw ApiException.Unavailable($"the node {target.Pod.Spec.NodeName} refused {endpoint}: {kubelet.Why(target.Pod.Spec.NodeName, target.Host, e)}");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw kubelet.NoAnswer(target.Pod.Spec.NodeName, endpoint);
            }
        }

        using var client = await context.WebSockets.AcceptWebSocketAsync(node.SubProtocol);
        // the node ends the session (after the status on the error channel); the client's side follows
        await WebSocketRelay.RelayAsync(node, client, kubelet.Timeouts.StreamIdle, TimeSpan.FromSeconds(2), nodeEnds: true, ct);
        log.LogDebug("{Endpoint} in {Namespace}/{Pod}/{Container} ended", endpoint, ns, name, target.Container);
    }

    /// <summary>The query the node gets: the streams' booleans read as the API server reads them (Python's stdin=True)
    /// and passed on in one spelling, and the endpoint's own keys (exec's command).</summary>
    private static IEnumerable<string> Forwarded(IQueryCollection query, IEnumerable<string> forwardedKeys) =>
        query.Where(kv => forwardedKeys.Contains(kv.Key))
            .SelectMany(kv => kv.Value.Select(v => $"{kv.Key}={Uri.EscapeDataString(v ?? "")}"))
            .Concat(query.Keys.Where(k => k is "stdin" or "stdout" or "stderr" or "tty")
                .Select(k => $"{k}={(QueryParameters.Bool(query, k) ? "true" : "false")}"));
}
