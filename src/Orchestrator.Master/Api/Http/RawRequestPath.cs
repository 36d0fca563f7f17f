using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace Orchestrator.Master.Api.Http;

/// <summary>
/// Puts back the path the client sent. Kestrel decodes the request target and then removes dot segments, so
/// <c>…/configmaps/%2e%2e</c> would arrive as the namespace's own path and <c>…/namespaces/%2e%2e/configmaps</c> as
/// the list across namespaces. This middleware runs first and sets <see cref="HttpRequest.Path"/> from the raw target:
/// each segment percent-decoded on its own (an encoded slash stays <c>%2F</c>, as Kestrel keeps it), none removed, so
/// that routing and <see cref="RequestInfo"/> see "." and ".." as the names they were sent as.
/// </summary>
internal sealed class RawRequestPath(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (PathOf(raw) is { } path) context.Request.Path = new PathString(Decode(path));
        return next(context);
    }

    /// <summary>The path part of an origin-form or absolute-form request target (null for "*" and the like).</summary>
    public static string? PathOf(string? target)
    {
        if (string.IsNullOrEmpty(target)) return null;
        var end = target.IndexOfAny(['?', '#']);
        if (end >= 0) target = target[..end];
        if (target.StartsWith('/')) return target;
        var scheme = target.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0) return null;
        var slash = target.IndexOf('/', scheme + 3);
        return slash < 0 ? "/" : target[slash..];
    }

    /// <summary>Each segment decoded separately; a slash that was encoded in a segment stays encoded.</summary>
    public static string Decode(string rawPath)
    {
        if (!rawPath.Contains('%')) return rawPath;
        var segments = rawPath.Split('/');
        var decoded = new StringBuilder(rawPath.Length);
        for (var i = 0; i < segments.Length; i++)
        {
            if (i > 0) decoded.Append('/');
            decoded.Append(Uri.UnescapeDataString(segments[i]).Replace("/", "%2F", StringComparison.Ordinal));
        }
        return decoded.ToString();
    }
}
