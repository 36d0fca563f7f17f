using System.Net.WebSockets;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// /api/v1/namespaces/{ns}/pods/{name}/exec — kubectl 1.32 opens a WebSocket (subprotocol v5.channel.k8s.io, falling
/// back to SPDY only when the upgrade is refused; SPDY is not served). The relay opens the same WebSocket to the
/// kubelet endpoint of the pod's node, accepts the client with the subprotocol the node chose, and copies messages
/// both ways unchanged: the channel protocol (stdin/stdout/stderr/error/resize/close) is the node's business.
/// </summary>
internal sealed class PodExec(KubeletConnection kubelet, ILogger<PodExec> log) : ISubresourceHandler
{
    public string Group => "";
    public string Resource => "pods";
    public string Subresource => "exec";

    public Task HandleAsync(HttpContext context, ResourceDescription resource, string? ns, string name) =>
        HandleAsync(context, ns!, name);

    private static readonly string[] Supported = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

    public async Task HandleAsync(HttpContext context, string ns, string name)
    {
        if (!context.WebSockets.IsWebSocketRequest)
            throw ApiException.BadRequest("Upgrade request required: exec is served over WebSockets (v5.channel.k8s.io, v4.channel.k8s.io)");
        var ct = context.RequestAborted;
        var query = context.Request.Query;
        var target = await kubelet.ResolveAsync(ns, name, query["container"].ToString(), ct);
        var requested = context.WebSockets.WebSocketRequestedProtocols.Where(Supported.Contains).ToList();
        if (requested.Count == 0)
            throw ApiException.BadRequest($"unsupported subprotocol; supported: {string.Join(", ", Supported)}");

        var forwarded = query.Where(kv => kv.Key is "command" or "stdin" or "stdout" or "stderr" or "tty")
            .SelectMany(kv => kv.Value.Select(v => $"{kv.Key}={Uri.EscapeDataString(v ?? "")}"));
        var uri = new Uri($"wss://{target.Host}:{target.Port}{target.Path("exec")}?{string.Join("&", forwarded)}");
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
                throw ApiException.Unavailable($"the node {target.Pod.Spec.NodeName} refused exec: {kubelet.Why(target.Pod.Spec.NodeName, target.Host, e)}");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw kubelet.NoAnswer(target.Pod.Spec.NodeName, "exec");
            }
        }

        using var client = await context.WebSockets.AcceptWebSocketAsync(node.SubProtocol);
        // the node ends the session (after the status on the error channel); the client's side follows
        await WebSocketRelay.RelayAsync(node, client, kubelet.Timeouts.StreamIdle, TimeSpan.FromSeconds(2), nodeEnds: true, ct);
        log.LogDebug("exec in {Namespace}/{Pod}/{Container} ended", ns, name, target.Container);
    }
}
