using Microsoft.AspNetCore.Http.Features;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Storage;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// <c>/api/v1/namespaces/{ns}/pods/{id}/proxy[/{path}]</c> and <c>…/services/{id}/proxy[/{path}]</c>, Kubernetes'
/// proxy subresources (kubectl proxy, <c>kubectl get --raw</c>): the target is resolved as kube-apiserver resolves it
/// (<see cref="ProxyLocation"/>) and the request is relayed through the kubelet endpoint of the pod's node
/// (<c>/podProxy/…</c>, with the master's kubelet credential), which forwards it to the pod's address on its pod
/// network and streams the answer back: the master need not reach the pod network of another machine. As kube's
/// proxy handler: a path-less request is redirected to <c>…/proxy/</c>, the query passes, <c>Location</c> headers of the
/// pod's redirects and the links of its text/html pages (<see cref="ProxiedHtml"/>) are rewritten to go through the
/// proxy, CORS headers of the answer are dropped. An upgrade (a WebSocket app in the pod) is relayed as kube's
/// UpgradeAwareHandler.tryUpgrade relays it (<see cref="KubeletRelay.UpgradeAsync"/>): to the path alone, without the
/// query (kube 1.32 drops it, kubernetes#77142), with no redirect and none of the rewriting above.
/// </summary>
internal sealed class PodServiceProxy(ObjectStoreClient store, KubeletConnection kubelet)
{
    private static readonly HashSet<string> Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    // hop-by-hop headers (RFC 9110 §7.6.1) and the caller's credentials (kube-apiserver's authentication and
    // impersonation filters remove them before the proxy) never travel on
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host",
    };

    private static readonly HashSet<string> NotReturned = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Connection", "Trailer", "Transfer-Encoding", "Upgrade",
        // removeCORSHeaders
        "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Allow-Origin",
    };

    /// <summary>The kubelet route that forwards one request to a pod: <c>/podProxy/{ns}/{pod}/{scheme}/{ip}/{port}/{path}</c>.</summary>
    public const string KubeletRoute = "podProxy";

    public async Task HandleAsync(HttpContext context, bool service, string ns, string id)
    {
        var ct = context.RequestAborted;
        if (!Methods.Contains(context.Request.Method)) throw ApiException.MethodNotAllowed(context.Request.Method);
        var target = service
            ? await ProxyLocation.ServiceAsync(store, ns, id, ct)
            : await ProxyLocation.PodAsync(store, ns, id, ct);
        // the body is streamed to the pod, never held here: the API's limit on request bodies is not the pod's
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;

        var (prefix, podPath) = SplitPath(RawRequestPath.PathOf(context.Features.Get<IHttpRequestFeature>()?.RawTarget) ?? context.Request.Path.Value ?? "");
        var upgrading = KubeletRelay.IsUpgradeRequest(context.Request);
        var query = upgrading ? "" : context.Request.QueryString.Value ?? "";
        if (upgrading && podPath.Length == 0) podPath = "/"; // tryUpgrade comes before the redirect below
        if (podPath.Length == 0)
        {
            // kube's proxy handler: a location without a path is redirected to the one ending in '/' (kubernetes#4958)
            context.Response.StatusCode = StatusCodes.Status301MovedPermanently;
            context.Response.Headers.Location = prefix + "/" + query;
            return;
        }

        var node = await kubelet.NodeEndpointAsync(target.Node, ct);
        var relayed = $"https://{Bracketed(node.Host)}:{node.Port}/{KubeletRoute}/{Uri.EscapeDataString(target.Namespace)}/" +
                      $"{Uri.EscapeDataString(target.Pod)}/{target.Scheme}/{target.Address}/{target.Port}{podPath}{query}";
        using var request = KubeletRelay.Request(context, new Uri(relayed, UriKind.Absolute),
            key => NotForwarded.Contains(key) || key.StartsWith("Impersonate-", StringComparison.OrdinalIgnoreCase));
        // the pod sees the Host the client asked for, as behind kube's reverse proxy, and where the request came from
        request.Headers.Host = context.Request.Host.Value;
        request.Headers.Remove("X-Forwarded-Uri");
        // (set by kube's proxy Transport, which an upgrade does not go through)
        if (!upgrading) request.Headers.TryAddWithoutValidation("X-Forwarded-Uri", prefix + podPath);
        KubeletRelay.AppendForwardedFor(context, request);

        if (upgrading)
        {
            // the pod's refusal (400 or more) as it came; the sandbox as on every answer of the pod
            await KubeletRelay.UpgradeAsync(context, kubelet, target.Node, node.Host, request, NotReturned,
                () => context.Response.Headers.Append("Content-Security-Policy", SandboxPolicy), ct);
            return;
        }
        using var response = await KubeletRelay.SendAsync(kubelet, target.Node, node.Host, request, ct);
        var podHost = $"{Bracketed(target.Address)}:{target.Port}";
        var requestHost = context.Request.Host.Value ?? "";
        // as kube's proxy Transport: a redirect gets its Location rewritten, any other text/html answer its links
        var encodings = response.Content.Headers.ContentEncoding;
        var encoding = encodings.Count == 0 ? "" : encodings.Count == 1 ? encodings.First() : null;
        var html = response.Headers.Location is null && !HttpMethods.IsHead(context.Request.Method) && ProxiedHtml.Rewrites(response.Content.Headers.ContentType?.MediaType, encoding);
        await KubeletRelay.AnswerAsync(context, response, NotReturned, () =>
        {
            // The dashboard (/ui/) shares this origin and keeps the user's token in the tab's sessionStorage: a pod's
            // page is sandboxed into an origin of its own, so its scripts cannot read it (kube-apiserver serves no page
            // of its own to protect). Scripts, forms and links still work; the pod's own policy, if any, applies too.
            context.Response.Headers.Append("Content-Security-Policy", SandboxPolicy);
            if (response.Headers.Location is not null && context.Response.Headers.Location.ToString() is { Length: > 0 } location)
                context.Response.Headers.Location = RewriteLocation(location, prefix, podHost, requestHost);
        }, ct, html ? body => ProxiedHtml.RewriteEncoded(body, encoding, url => RewriteLocation(url, prefix, podHost, requestHost)) : null,
            ProxiedHtml.MaxBytes);
    }

    internal const string SandboxPolicy = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads";

    /// <summary>The request path split after <c>…/{name}/proxy</c>: that prefix, and the pod's path (empty when the
    /// request ends at "proxy", "/" when it ends at "proxy/"), kept as sent.</summary>
    internal static (string Prefix, string PodPath) SplitPath(string rawPath)
    {
        var parts = rawPath.Split('/');
        // "", "api", "v1", "namespaces", ns, "pods"|"services", id, "proxy", path...
        const int fixedParts = 8;
        if (parts.Length <= fixedParts) return (rawPath, "");
        return (string.Join('/', parts[..fixedParts]), "/" + string.Join('/', parts[fixedParts..]));
    }

    /// <summary>kube's proxy Transport.rewriteURL for a redirect or a page's link: an absolute-path location on the pod (or
    /// on the host the client asked) is sent through the proxy; a relative one or one on another host is left as it is.</summary>
    internal static string RewriteLocation(string location, string prefix, string podHost, string requestHost)
    {
        if (!Uri.TryCreate(location, UriKind.RelativeOrAbsolute, out var uri)) return location;
        string host = "", path, rest;
        if (uri.IsAbsoluteUri)
        {
            host = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
            if (uri.HostNameType == UriHostNameType.IPv6) host = uri.IsDefaultPort ? $"[{uri.IdnHost}]" : $"[{uri.IdnHost}]:{uri.Port}";
            path = uri.AbsolutePath;
            rest = uri.Query + uri.Fragment;
        }
        else
        {
            var end = location.IndexOfAny(['?', '#']);
            path = end < 0 ? location : location[..end];
            rest = end < 0 ? "" : location[end..];
        }
        if (host.Length > 0 && host != podHost && host != requestHost) return location;
        if (!path.StartsWith('/') || path.StartsWith("//", StringComparison.Ordinal)) return location;
        // the client's own host stays as it was; the pod's becomes a path on the API server
        var origin = host.Length > 0 && host == requestHost ? $"{uri.Scheme}://{host}" : "";
        if (path.StartsWith(prefix, StringComparison.Ordinal)) return origin + path + rest;
        return origin + prefix + path + rest;
    }

    private static string Bracketed(string address) => address.Contains(':') ? $"[{address}]" : address;
}
