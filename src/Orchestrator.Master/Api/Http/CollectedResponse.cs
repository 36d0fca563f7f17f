namespace Orchestrator.Master.Api.Http;

/// <summary>
/// The response body of the middlewares that rewrite a JSON answer whole (<see cref="PrettyJsonResponses"/>,
/// <see cref="YamlResponses"/>): kept when <c>keep</c> says so at the first byte or flush — by then the handler has
/// set the Content-Type — and otherwise passed on as it is written (a stream, a log, a proxied answer).
/// </summary>
internal sealed class CollectedResponse(Stream inner, Func<bool> keep) : Stream
{
    private MemoryStream? _kept;
    private bool _decided;

    /// <summary>Runs the rest of the pipeline with the answer collected; afterwards the response's body is the one it
    /// had before, where the caller writes what it makes of <see cref="Kept"/>.</summary>
    public static async Task<CollectedResponse> RunAsync(HttpContext context, RequestDelegate next, Func<bool> keep)
    {
        var inner = context.Response.Body;
        var body = new CollectedResponse(inner, keep);
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
        return body;
    }

    /// <summary>The kept answer; empty when there was none or it was passed on.</summary>
    public ReadOnlyMemory<byte> Kept => _kept is null ? default : _kept.GetBuffer().AsMemory(0, (int)_kept.Length);

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
        if (keep()) _kept = new MemoryStream();
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
}
