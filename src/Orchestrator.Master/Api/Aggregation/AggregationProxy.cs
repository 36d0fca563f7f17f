using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Security;

namespace Orchestrator.Master.Api.Aggregation;

/// <summary>
/// kube-aggregator's proxy handler: a request under <c>/apis/GROUP/VERSION</c> of a service-backed APIService goes to
/// its extension server once this server has authenticated and authorized it (the filters before routing, as kube's
/// handler chain wraps the aggregator). Not Available: 503 "service unavailable" (plain text, as kube). The request
/// goes on as it came (path and query, body streamed) without the caller's credentials — Authorization and
/// Impersonate-* are gone, the user is the requestheader scheme's X-Remote-* headers of the (impersonated) user — and
/// the answer comes back streamed (a watch stays a watch). Upgrades (exec-like streams of extension servers) are refused.
/// </summary>
internal sealed class AggregationProxy(AggregationState state, ExtensionServers servers, ILogger<AggregationProxy> log)
{
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Expect",
    };

    private static readonly HashSet<string> NotReturned = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Connection", "Trailer", "Transfer-Encoding", "Upgrade",
    };

    /// <summary>The proxying of this request, or null when its path is no service-backed APIService's.</summary>
    public Task? TryProxy(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (!path.StartsWith("/apis/", StringComparison.Ordinal)) return null;
        var parts = path.Split('/', 5); // "", "apis", group, version, rest
        if (parts.Length < 4 || parts[2].Length == 0 || parts[3].Length == 0) return null;
        return state.Route(parts[2], parts[3]) is { } api ? ProxyAsync(context, api) : null;
    }

    private async Task ProxyAsync(HttpContext context, k8s.Models.V1APIService api)
    {
        if (!AggregationState.IsAvailable(api))
        {
            await PlainAsync(context, 503, "service unavailable");
            return;
        }
        if (RequestUser.Get(context) is not { } user)
        {
            await PlainAsync(context, 500, "missing user");
            return;
        }
        if (KubeletRelay.IsUpgradeRequest(context.Request))
            throw ApiException.BadRequest($"upgrade requests to the aggregated API {api.Spec.Group}/{api.Spec.Version} are not supported by this API server");

        // the body goes to the extension server as it comes: the API's own limit is not the extension server's
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        var target = (RawRequestPath.PathOf(context.Features.Get<IHttpRequestFeature>()?.RawTarget) ?? context.Request.Path.Value ?? "/") +
                     context.Request.QueryString.Value;
        var headers = new List<(string, string)>();
        foreach (var (key, values) in context.Request.Headers)
        {
            if (NotForwarded.Contains(key) || key.StartsWith("Impersonate-", StringComparison.OrdinalIgnoreCase) ||
                key.StartsWith("X-Remote-", StringComparison.OrdinalIgnoreCase) || key.Equals("X-Forwarded-For", StringComparison.OrdinalIgnoreCase))
                continue;
            foreach (var value in values) if (value is not null) headers.Add((key, value));
        }
        // kube's reverse proxy appends the client's address
        var prior = context.Request.Headers["X-Forwarded-For"].ToString();
        if (context.Connection.RemoteIpAddress is { } remote) headers.Add(("X-Forwarded-For", prior.Length > 0 ? $"{prior}, {remote}" : remote.ToString()));
        else if (prior.Length > 0) headers.Add(("X-Forwarded-For", prior));
        headers.AddRange(ExtensionServers.UserHeaders(user));

        var hasBody = context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0;
        ExtensionServerAnswer answer;
        try
        {
            answer = await servers.SendAsync(api, context.Request.Method, target, headers, hasBody ? context.Request.Body : null,
                hasBody ? context.Request.ContentLength : null, context.RequestAborted);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException
                                      or Webhooks.WebhookCallException or System.Net.WebSockets.WebSocketException)
        {
            // kube's responder: the error as the 503's text
            log.LogInformation("Proxying to {Service} failed: {Message}", ExtensionServers.HostOf(api.Spec.Service!), e.Message);
            await PlainAsync(context, 503, e.Message);
            return;
        }
        await using (answer)
        {
            PrettyJsonResponses.PassThrough(context); // the extension server's answer as it wrote it
            context.Response.StatusCode = answer.Response.Status;
            foreach (var group in answer.Response.Headers.GroupBy(h => h.Name, StringComparer.OrdinalIgnoreCase))
                if (!NotReturned.Contains(group.Key)) context.Response.Headers[group.Key] = group.Select(h => h.Value).ToArray();
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var buffer = new byte[32 * 1024];
            int read;
            while ((read = await answer.Response.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted); // a watch's events as they come
            }
        }
    }

    /// <summary>Go's http.Error: the text and a newline, as text/plain.</summary>
    private static async Task PlainAsync(HttpContext context, int status, string text)
    {
        PrettyJsonResponses.PassThrough(context);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        await context.Response.WriteAsync(text + "\n", Encoding.UTF8, context.RequestAborted);
    }
}
