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
        var inner = context.Response.Body;
        var body = new Collecting(context.Response, inner);
        context.Response.Body = body;
        try
        {
            await next(context);
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted); // what a handler left in the pipe
        }
        finally
        {
            context.Response.Body = inner;
        }
        await body.FinishAsync(context.RequestAborted);
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

    /// <summary>Keeps a JSON body (decided by the Content-Type when the first byte or flush comes); passes anything else on.</summary>
    private sealed class Collecting(HttpResponse response, Stream inner) : Stream
    {
        private MemoryStream? _kept;
        private bool _decided;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        private void Decide()
        {
            if (_decided) return;
            _decided = true;
            if (IsJson(response.ContentType) && !response.HttpContext.Items.ContainsKey(PassThroughKey)) _kept = new MemoryStream();
        }

        /// <summary>application/json with any parameters but a stream one (a watch's events are never indented).</summary>
        private static bool IsJson(string? contentType)
        {
            if (contentType is null) return false;
            var parts = contentType.Split(';', StringSplitOptions.TrimEntries);
            return parts[0].Equals("application/json", StringComparison.OrdinalIgnoreCase) &&
                   !parts.Skip(1).Any(p => p.StartsWith("stream=", StringComparison.OrdinalIgnoreCase));
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Decide();
            if (_kept is not null) _kept.Write(buffer);
            else inner.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Decide();
            if (_kept is null) return inner.WriteAsync(buffer, cancellationToken);
            _kept.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
            Decide();
            if (_kept is null) inner.Flush();
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Decide();
            return _kept is null ? inner.FlushAsync(cancellationToken) : Task.CompletedTask;
        }

        public async Task FinishAsync(CancellationToken cancellationToken)
        {
            if (_kept is not { Length: > 0 }) return;
            var compact = _kept.GetBuffer().AsMemory(0, (int)_kept.Length);
            var body = GoJsonIndent.Indent(compact.Span) ?? compact.ToArray(); // not JSON after all: as it was
            if (!response.HasStarted) response.ContentLength = body.Length;
            await inner.WriteAsync(body, cancellationToken);
        }
    }
}
