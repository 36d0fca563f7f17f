namespace Orchestrator.Master.Api.Http;

/// <summary>
/// kube-apiserver answers YAML to a client whose Accept prefers <c>application/yaml</c>
/// (<see cref="ContentNegotiation.Yaml"/>): every negotiated answer under /api and /apis — objects, lists, Tables,
/// PartialObjectMetadata, Statuses (errors too), discovery — is its JSON converted by sigs.k8s.io/yaml, which is what
/// this does (<see cref="JsonToYaml"/>): the JSON answer is collected whole and written as YAML with its
/// Content-Length and <c>application/yaml</c> (with the JSON type's parameters, as aggregated discovery names its
/// kind). A watch has no YAML form (the watch refuses it with 406, whose Status is converted here); bodies that are not
/// JSON (logs, proxied answers) and WebSockets pass untouched. Registered after <see cref="PrettyJsonResponses"/>,
/// which then sees YAML and leaves it, as kube's YAML serializer has no pretty form.
/// </summary>
internal sealed class YamlResponses(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context) =>
        !Wanted(context.Request) || context.WebSockets.IsWebSocketRequest ? next(context) : CollectAsync(context);

    internal static bool Wanted(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        return (path == "/api" || path.StartsWith("/api/", StringComparison.Ordinal) ||
                path == "/apis" || path.StartsWith("/apis/", StringComparison.Ordinal)) &&
               ContentNegotiation.Yaml(request.Headers.Accept);
    }

    private async Task CollectAsync(HttpContext context)
    {
        var inner = context.Response.Body;
        var body = new Collecting(context, inner);
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

    /// <summary>Keeps a JSON body (decided by the Content-Type when the first byte or flush comes); passes anything else on.</summary>
    private sealed class Collecting(HttpContext context, Stream inner) : Stream
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
            if (YamlType(context.Response.ContentType) is not null && !PrettyJsonResponses.PassesThrough(context)) _kept = new MemoryStream();
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
            var json = _kept.GetBuffer().AsMemory(0, (int)_kept.Length);
            var yaml = JsonToYaml.Convert(json.Span);
            var response = context.Response;
            if (yaml is not null && !response.HasStarted)
            {
                response.ContentType = YamlType(response.ContentType);
                response.ContentLength = yaml.Length;
            }
            await inner.WriteAsync(yaml ?? json.ToArray(), cancellationToken); // not JSON after all: as it was
        }
    }

    /// <summary>The YAML type of a JSON answer's type (application/json with any parameters but a stream one), else null.</summary>
    internal static string? YamlType(string? contentType)
    {
        if (contentType is null) return null;
        var semicolon = contentType.IndexOf(';');
        var type = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        if (!type.Equals("application/json", StringComparison.OrdinalIgnoreCase)) return null;
        if (semicolon < 0) return ContentNegotiation.YamlMediaType;
        var parameters = contentType[semicolon..];
        return parameters.Contains("stream=", StringComparison.OrdinalIgnoreCase) ? null : ContentNegotiation.YamlMediaType + parameters;
    }
}
