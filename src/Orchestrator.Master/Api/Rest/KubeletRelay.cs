using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// One request relayed to a node's kubelet endpoint and its answer streamed back (the nodes/proxy and the
/// pods|services/proxy subresources): the body streamed on, the headers copied but those the caller names, a node
/// that cannot be reached answered 503, the answer's status, headers and body passed through as the node wrote them.
/// </summary>
internal static class KubeletRelay
{
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
