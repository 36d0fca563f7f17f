using System.Net.Sockets;
using System.Text;
using k8s.Models;
using Microsoft.AspNetCore.Http.Features;
using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// kubectl's plain SPDY port forwarding: an HTTP/1.1 request with <c>Upgrade: SPDY/3.1</c> and
/// <c>X-Stream-Protocol-Version: portforward.k8s.io</c>. The relay makes the same upgrade to the node's kubelet
/// endpoint first, and only once the node has switched protocols switches the client's connection too; then it
/// copies bytes both ways: the SPDY connection is the node's business.
/// </summary>
internal static class SpdyUpgradeRelay
{
    private const string StreamProtocolHeader = "X-Stream-Protocol-Version", PortForwardProtocol = "portforward.k8s.io";

    public static bool IsSpdyUpgrade(HttpRequest request) =>
        request.Headers.Upgrade.Any(u => u?.Contains("SPDY/3.1", StringComparison.OrdinalIgnoreCase) == true);

    public static async Task RelayAsync(HttpContext context, KubeletConnection kubelet, V1Pod pod, string nodePath, CancellationToken ct)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var offered = context.Request.Headers[StreamProtocolHeader].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries));
        if (upgrade is not { IsUpgradableRequest: true } || !offered.Contains(PortForwardProtocol))
            throw ApiException.BadRequest($"SPDY port forwarding needs an HTTP/1.1 upgrade offering {StreamProtocolHeader}: {PortForwardProtocol}");
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
                    $"Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n{StreamProtocolHeader}: {PortForwardProtocol}\r\nContent-Length: 0\r\n\r\n"), answering.Token);
                head = await ReadHeadAsync(nodeStream, answering.Token);
            }
            catch (Exception e) when (e is SocketException or System.Security.Authentication.AuthenticationException or IOException)
            {
                throw ApiException.Unavailable($"the node {pod.Spec.NodeName} is not reachable for port forwarding: {kubelet.Why(pod.Spec.NodeName, host, e)}");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw kubelet.NoAnswer(pod.Spec.NodeName, "port forwarding");
            }
        }
        await using var ownedNodeStream = nodeStream;
        if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            throw ApiException.Unavailable($"the node {pod.Spec.NodeName} refused port forwarding to pod {pod.Metadata.Name}: {head.Split("\r\n")[0]}");

        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.Upgrade = "SPDY/3.1";
        context.Response.Headers[StreamProtocolHeader] = PortForwardProtocol;
        await using var client = await upgrade.UpgradeAsync();
        // either side ending ends the relay: a SPDY connection has no half-close; so does silence both ways
        using var idle = new IdleTimeout(kubelet.Timeouts.StreamIdle, ct);
        await Task.WhenAny(CopyAsync(client, nodeStream, idle), CopyAsync(nodeStream, client, idle));
        await idle.CancelAsync();
    }

    private static async Task CopyAsync(Stream from, Stream to, IdleTimeout idle)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, idle.Token)) > 0)
            {
                idle.Touch();
                await to.WriteAsync(buffer.AsMemory(0, read), idle.Token);
                await to.FlushAsync(idle.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { }
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
