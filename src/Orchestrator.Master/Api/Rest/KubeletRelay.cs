using System.Net;
using Microsoft.AspNetCore.Http.Features;
using Orchestrator.Master.Api.Http;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// One request relayed to a node's kubelet endpoint and its answer streamed back (the nodes/proxy and the
/// pods|services/proxy subresources): the body streamed on, the headers copied but those the caller names, a node
/// that cannot be reached answered 503, the answer's status, headers and body passed through as the node wrote them.
/// An upgrade (<see cref="IsUpgradeRequest"/>) is relayed as kube's UpgradeAwareHandler relays it (<see cref="UpgradeAsync"/>).
/// </summary>
internal static class KubeletRelay
{
    /// <summary>httpstream.IsUpgradeRequest: a Connection header that names "upgrade" (the Upgrade header itself is
    /// not looked at; without that Connection token it is an ordinary request, and the header is not forwarded).</summary>
    public static bool IsUpgradeRequest(HttpRequest request) =>
        request.Headers.Connection.Any(v => v?.Contains("upgrade", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>
    /// kube's UpgradeAwareHandler.tryUpgrade through the node: <paramref name="request"/> goes to the node's kubelet
    /// endpoint with the client's Upgrade header (the node makes the same upgrade to its target); a 101 from there is
    /// relayed with its headers, the client's connection switched, and bytes spliced both ways until either side closes
    /// (or nothing passed for the stream idle timeout); an answer of 400 or more is relayed as it came; any other is a
    /// 500, "invalid upgrade response". Only HTTP/1.1 connections upgrade (HTTP/2 has no Connection header: Kestrel
    /// ends such a connection; an extended CONNECT is a method the proxy does not serve, 405); a connection Kestrel
    /// cannot switch is refused with a 400 before anything is sent.
    /// </summary>
    public static async Task UpgradeAsync(HttpContext context, KubeletConnection kubelet, string node, string host,
        HttpRequestMessage request, ISet<string> notReturned, Action? adjust, CancellationToken ct)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true } upgrade)
            throw ApiException.BadRequest($"unable to upgrade: a {context.Request.Protocol} connection cannot be switched; upgrades are served over HTTP/1.1");
        request.Headers.Connection.Add("Upgrade");
        request.Headers.TryAddWithoutValidation("Upgrade", (IEnumerable<string>)context.Request.Headers.Upgrade!);
        request.Version = HttpVersion.Version11;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;

        HttpResponseMessage response;
        using (var answering = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            answering.CancelAfter(kubelet.Timeouts.Response);
            try
            {
                response = await SendAsync(kubelet, node, host, request, answering.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw kubelet.NoAnswer(node, "the upgrade");
            }
        }
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
            {
                if ((int)response.StatusCode < 400)
                    throw new ApiException(500, "", $"invalid upgrade response: status code {(int)response.StatusCode}");
                await AnswerAsync(context, response, notReturned, adjust, ct);
                return;
            }
            // the raw connection to the node, now the target's (the node splices it on)
            await using var backend = await response.Content.ReadAsStreamAsync(ct);
            foreach (var (key, values) in response.Headers)
                context.Response.Headers[key] = values.ToArray();
            await using var client = await upgrade.UpgradeAsync();
            await StreamSplice.RunAsync(client, backend, kubelet.Timeouts.StreamIdle, ct);
        }
    }

    public static HttpRequestMessage Request(HttpContext context, Uri target, Func<string, bool> notForwarded)
    {
        var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            request.Content = new StreamContent(context.Request.Body);
        foreach (var (key, values) in context.Request.Headers)
        {
            if (notForwarded(key)) continue;
            if (!request.Headers.TryAddWithoutValidation(key, (IEnumerable<string>)values!))
                request.Content?.Headers.TryAddWithoutValidation(key, (IEnumerable<string>)values!);
        }
        return request;
    }

    /// <summary>The client's address appended to X-Forwarded-For, as kube's proxy does on both of its paths (the reverse
    /// proxy's, tryUpgrade's AppendForwardedForHeader).</summary>
    public static void AppendForwardedFor(HttpContext context, HttpRequestMessage request)
    {
        if (context.Connection.RemoteIpAddress is not { } remote) return;
        var prior = context.Request.Headers["X-Forwarded-For"].ToString();
        request.Headers.Remove("X-Forwarded-For");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", prior.Length > 0 ? $"{prior}, {remote}" : remote.ToString());
    }

    public static async Task<HttpResponseMessage> SendAsync(KubeletConnection kubelet, string node, string host, HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await kubelet.Http(node, host).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            throw ApiException.Unavailable($"error trying to reach node {node}: {kubelet.Why(node, host, e)}");
        }
    }

    /// <summary>Writes the node's answer; <paramref name="adjust"/> may change the headers before the body goes, and
    /// <paramref name="rewrite"/>, when given, the whole body (null from it: unchanged) if it is at most
    /// <paramref name="rewriteLimit"/> bytes — a larger one is streamed on unchanged.</summary>
    public static async Task AnswerAsync(HttpContext context, HttpResponseMessage response, ISet<string> notReturned, Action? adjust,
        CancellationToken ct, Func<byte[], byte[]?>? rewrite = null, int rewriteLimit = 0)
    {
        PrettyJsonResponses.PassThrough(context); // the answer as it was written
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (key, values) in response.Headers.Concat(response.Content.Headers))
            if (!notReturned.Contains(key)) context.Response.Headers[key] = values.ToArray();
        adjust?.Invoke();
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        if (rewrite is not null)
        {
            var whole = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while (whole.Length <= rewriteLimit && (read = await body.ReadAsync(chunk, ct)) > 0) whole.Write(chunk, 0, read);
            if (whole.Length <= rewriteLimit)
            {
                var original = whole.ToArray();
                var rewritten = rewrite(original) ?? original;
                context.Response.ContentLength = rewritten.Length;
                await context.Response.Body.WriteAsync(rewritten, ct);
                return;
            }
            whole.Position = 0;
            await whole.CopyToAsync(context.Response.Body, ct);
        }
        await body.CopyToAsync(context.Response.Body, ct);
    }
}
