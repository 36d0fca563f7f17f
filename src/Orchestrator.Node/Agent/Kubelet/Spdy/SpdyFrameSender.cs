namespace Orchestrator.Node.Agent.Kubelet.Spdy;

/// <summary>The sending half of one SPDY connection: one frame at a time, and SYN_REPLY frames built under the same
/// lock, because their header blocks continue one shared zlib stream and must go out in the order they were made.</summary>
internal sealed class SpdyFrameSender(Stream transport)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly SpdyFrameWriter _writer = new();

    public Task SendAsync(byte[] frame, CancellationToken ct) => SendAsync(_ => frame, ct);

    public Task SynReplyAsync(uint streamId, CancellationToken ct) => SendAsync(w => w.SynReply(streamId), ct);

    private async Task SendAsync(Func<SpdyFrameWriter, byte[]> frame, CancellationToken ct)
    {
        await _lock.WaitAsync(ct);
        try
        {
            await transport.WriteAsync(frame(_writer), ct);
            await transport.FlushAsync(ct);
        }
        finally
        {
            _lock.Release();
        }
    }
}
