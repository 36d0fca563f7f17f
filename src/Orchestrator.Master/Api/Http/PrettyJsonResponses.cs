namespace Orchestrator.Master.Api.Http;

/// <summary>
/// kube-apiserver answers a person with indented JSON: its content negotiation picks the pretty JSON serializer when the
/// request has <c>?pretty=</c> (Go's ParseBool: 1, t, T, true, TRUE, True; any other value means compact, whatever the
/// client) or, without it, a User-Agent starting with "curl", "Wget" or "Mozilla/5.0" (isPrettyPrint). That covers
/// every object, list, table, Status and discovery document of /api and /apis; a watch stream stays one compact event a
/// line, and bodies that are not JSON (logs, exec, proxied answers) pass untouched. Scripts rely on it: test/cmd's
/// authorization test greps a SubjectAccessReview fetched with curl for <c>"allowed": true</c>.
/// A JSON answer to such a request is collected whole, then written indented (<see cref="GoJsonIndent"/>) with its
/// Content-Length; everything else streams through as written.
/// </summary>
internal sealed class PrettyJsonResponses(RequestDelegate next)
{
    private static readonly object PassThroughKey = new();

    /// <summary>Marks the request's answer as someone else's (a proxied answer): written as it comes, JSON or not.</summary>
    public static void PassThrough(HttpContext context) => context.Items[PassThroughKey] = true;

    /// <summary>Whether <see cref="PassThrough"/> marked the answer (the YAML form leaves it alone too).</summary>
    internal static bool PassesThrough(HttpContext context) => context.Items.ContainsKey(PassThroughKey);

    // not an async method for the requests it leaves alone (nearly all): no state machine per request
    public Task InvokeAsync(HttpContext context) =>
        !Wanted(context.Request) || context.WebSockets.IsWebSocketRequest ? next(context) : CollectAsync(context);

    private async Task CollectAsync(HttpContext context)
    {
        var response = context.Response;
        var body = await CollectedResponse.RunAsync(context, next, () => IsJson(response.ContentType) && !PassesThrough(context));
        if (body.Kept is not { Length: > 0 } compact) return;
        var indented = GoJsonIndent.Indent(compact.Span) ?? compact.ToArray(); // not JSON after all: as it was
        if (!response.HasStarted) response.ContentLength = indented.Length;
        await response.Body.WriteAsync(indented, context.RequestAborted);
    }

    /// <summary>isPrettyPrint, for the paths whose answers kube-apiserver negotiates (not /openapi, /version, health or
    /// metrics, which write their bodies themselves), and not for a watch.</summary>
    internal static bool Wanted(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        if (!(path == "/api" || path.StartsWith("/api/", StringComparison.Ordinal) ||
              path == "/apis" || path.StartsWith("/apis/", StringComparison.Ordinal))) return false;
        if (QueryParameters.Bool(request.Query, "watch")) return false;
        if (request.Query.TryGetValue("pretty", out var pretty) && pretty.ToString() is { Length: > 0 } value)
            return value is "1" or "t" or "T" or "true" or "TRUE" or "True";
        var userAgent = request.Headers.UserAgent.ToString();
        return userAgent.StartsWith("curl", StringComparison.Ordinal) || userAgent.StartsWith("Wget", StringComparison.Ordinal) ||
               userAgent.StartsWith("Mozilla/5.0", StringComparison.Ordinal);
    }

    /// <summary>application/json with any parameters but a stream one (a watch's events are never indented).</summary>
    private static bool IsJson(string? contentType)
    {
        if (contentType is null) return false;
        var parts = contentType.Split(';', StringSplitOptions.TrimEntries);
        return parts[0].Equals("application/json", StringComparison.OrdinalIgnoreCase) &&
               !parts.Skip(1).Any(p => p.StartsWith("stream=", StringComparison.OrdinalIgnoreCase));
    }
}
