using System.Net.Sockets;
using System.Text;
using k8s.Models;
using Microsoft.AspNetCore.Http.Features;
using Orchestrator.Master.Api.Http;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// Plain SPDY streams: an HTTP/1.1 request with <c>Upgrade: SPDY/3.1</c> and the protocols the client speaks in
/// <c>X-Stream-Protocol-Version</c> (port forwarding: portforward.k8s.io; exec and attach: v4.channel.k8s.io and
/// older, client-go's SPDY executor). The protocol is negotiated here as kube's httpstream.Handshake does (the
/// client's order; 403 when none fits), the relay makes the same upgrade to the node's kubelet endpoint with it,
/// and only once the node has switched protocols switches the client's connection too; then it copies bytes both
/// ways: the SPDY connection is the node's business.
/// </summary>
internal static class SpdyUpgradeRelay
{
    private const string StreamProtocolHeader = "X-Stream-Protocol-Version", AcceptedHeader = "X-Accepted-Stream-Protocol-Versions";
    public static readonly string[] PortForwardProtocols = ["portforward.k8s.io"];
    /// <summary>What the kubelet serves over SPDY for exec and attach (v5 is WebSocket-only).</summary>
    public static readonly string[] RemoteCommandProtocols = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io"];

    public static bool IsSpdyUpgrade(HttpRequest request) =>
        request.Headers.Upgrade.Any(u => u?.Contains("SPDY/3.1", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>Relays the upgrade to <paramref name="nodePath"/> (path and query) on the pod's node;
    /// <paramref name="what"/> names the session in errors ("port forwarding", "exec").</summary>
    public static async Task RelayAsync(HttpContext context, KubeletConnection kubelet, V1Pod pod, string nodePath,
        IReadOnlyList<string> protocols, string what, CancellationToken ct)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var offered = context.Request.Headers[StreamProtocolHeader].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries))
            .Where(p => p.Length > 0).ToList();
        if (upgrade is not { IsUpgradableRequest: true } || offered.Count == 0)
            throw ApiException.BadRequest($"unable to upgrade: {StreamProtocolHeader} is required");
        var protocol = offered.FirstOrDefault(protocols.Contains);
        if (protocol is null)
        {
            foreach (var accepted in protocols) context.Response.Headers.Append(AcceptedHeader, accepted);
            throw new ApiException(403, "Forbidden",
                $"unable to upgrade: unable to negotiate protocol: client supports [{string.Join(" ", offered)}], server accepts [{string.Join(" ", protocols)}]");
        }
        var (host, port) = await kubelet.NodeEndpointAsync(pod, ct);

        Stream nodeStream;
        string head;
        using (var answering = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            answering.CancelAfter(kubelet.Timeouts.Response);
            try
            {
                nodeStream = await kubelet.ConnectAsync(pod.Spec.NodeName, host, port, answering.Token);
                await nodeStream.WriteAsync(Encoding.ASCII.GetBytes(
                    $"POST {nodePath} HTTP/1.1\r\nHost: {host}:{port}\r\n" +
                    $"Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n{StreamProtocolHeader}: {protocol}\r\nContent-Length: 0\r\n\r\n"), answering.Token);
                head = await ReadHeadAsync(nodeStream, answering.Token);
            }
            catch (Exception e) when (e is SocketException or System.Security.Authentication.AuthenticationException or IOException)
            {
                throw ApiException.Unavailable($"the node {pod.Spec.NodeName} is not reachable for {what}: {kubelet.Why(pod.Spec.NodeName, host, e)}");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw kubelet.NoAnswer(pod.Spec.NodeName, what);
            }
        }
        await using var ownedNodeStream = nodeStream;
        if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            throw ApiException.Unavailable($"the node {pod.Spec.NodeName} refused {what} to pod {pod.Metadata.Name}: {head.Split("\r\n")[0]}");

        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.Upgrade = "SPDY/3.1";
        context.Response.Headers[StreamProtocolHeader] = protocol;
        await using var client = await upgrade.UpgradeAsync();
        // either side ending ends the relay: a SPDY connection has no half-close; so does silence both ways
        await StreamSplice.RunAsync(client, nodeStream, kubelet.Timeouts.StreamIdle, ct);
    }

    /// <summary>The response head, read byte by byte so that nothing of the SPDY connection after it is consumed.</summary>
    private static async Task<string> ReadHeadAsync(Stream stream, CancellationToken ct)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (head.Length < 16 * 1024 && !head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, ct) == 0) break;
            head.Append((char)one[0]);
        }
        return head.ToString();
    }
}
