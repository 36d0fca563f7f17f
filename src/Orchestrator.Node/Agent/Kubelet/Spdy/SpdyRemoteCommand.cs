using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent.Kubelet.Spdy;

/// <summary>The streams a remote command asked for (the request's stdin/stdout/stderr/tty; stderr is off with a tty,
/// as the kubelet has it).</summary>
internal sealed record RemoteCommandStreams(bool Stdin, bool Stdout, bool Stderr, bool Tty);

/// <summary>How a remote command ended: the v4 Status JSON, and for the older protocols the failure's text (null on
/// success, when they send nothing).</summary>
internal sealed record RemoteCommandOutcome(string StatusJson, string? FailureMessage);

/// <summary>
/// The server side of exec and attach over SPDY/3.1 (client-go's SPDY executor: kubectl with
/// KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false, Java and older clients). The client opens one stream per channel, each
/// named by its <c>streamtype</c> header (error, stdin, stdout, stderr, resize with a tty); once all it asked for are
/// there the command runs. Output goes as data frames on stdout/stderr, stdin's FIN closes the command's stdin, the
/// resize stream carries JSON sizes one after another. At the end stdout and stderr get FIN, the error stream gets
/// the status (v4: a Status JSON; v2/v3: the failure's text, nothing on success) and FIN.
/// </summary>
internal sealed class SpdyRemoteCommand(Stream transport, string protocol, RemoteCommandStreams wanted, ILogger log)
{
    public const string V4 = "v4.channel.k8s.io", V3 = "v3.channel.k8s.io", V2 = "v2.channel.k8s.io";
    /// <summary>What the kubelet serves over SPDY (v5 is WebSocket-only; v1's quirks are not served).</summary>
    public static readonly string[] Protocols = [V4, V3, V2];

    private readonly SpdyFrameSender _sender = new(transport);
    private readonly object _gate = new();
    private readonly Dictionary<string, uint> _byType = new();
    private readonly Dictionary<uint, string> _byStream = new();
    private readonly TaskCompletionSource<bool> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<byte[]> _stdin = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
    private readonly Channel<(int Width, int Height)> _resize = Channel.CreateUnbounded<(int, int)>();
    private readonly List<byte> _resizeBytes = [];
    private Task _reading = Task.CompletedTask;

    private int Expected => 1 + (wanted.Stdin ? 1 : 0) + (wanted.Stdout ? 1 : 0) + (wanted.Stderr ? 1 : 0)
                            + (wanted.Tty && protocol != V2 ? 1 : 0);

    /// <summary>Reads the connection in the background and waits until every stream the request named is open;
    /// false when the client went away or did not open them in time.</summary>
    public async Task<bool> AcceptStreamsAsync(TimeSpan timeout, CancellationToken ct)
    {
        _reading = Task.Run(() => ReadAsync(ct), CancellationToken.None);
        try
        {
            return await _ready.Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            log.LogInformation("remote command: timed out waiting for client to create streams");
            return false;
        }
    }

    /// <summary>Runs the session: stdin and resizes go in, output goes out until it ends, then the outcome is sent.
    /// A client that leaves first ends the copy (an attached process outlives its clients).</summary>
    public async Task RunAsync(IExecSession session, Func<Task<RemoteCommandOutcome>> outcome, CancellationToken ct)
    {
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _ = _reading.ContinueWith(_ =>
        {
            try { gone.Cancel(); }
            catch (ObjectDisposedException) { } // the session had ended first
        }, TaskScheduler.Default);
        var input = PumpStdinAsync(session, gone.Token);
        var resize = PumpResizeAsync(session, gone.Token);
        var buffer = new byte[32 * 1024];
        try
        {
            while (true)
            {
                var read = await session.ReadAsync(buffer, gone.Token);
                if (read.Eof) break;
                var type = read.Stream == 2 && !wanted.Tty ? "stderr" : "stdout";
                if (Stream(type) is { } id)
                    await SendAsync(SpdyFrameWriter.Data(id, buffer.AsSpan(0, read.Count)), gone.Token);
            }
        }
        catch (Exception e) when (gone.IsCancellationRequested && e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            return; // the client closed: nobody to tell the outcome to
        }
        await FinishAsync(await outcome(), ct);
        await Task.WhenAny(Task.WhenAll(input, resize), Task.Delay(TimeSpan.FromSeconds(2), ct));
    }

    /// <summary>Ends every output stream, sends the outcome on the error stream, and lets the client close the
    /// connection first (closing under its unread bytes would reset what it has not read yet).</summary>
    public async Task FinishAsync(RemoteCommandOutcome outcome, CancellationToken ct)
    {
        try
        {
            foreach (var type in (string[])["stdout", "stderr"])
                if (Stream(type) is { } id) await SendAsync(SpdyFrameWriter.Data(id, [], fin: true), ct);
            if (Stream("error") is { } error)
            {
                var text = protocol == V4 ? outcome.StatusJson : outcome.FailureMessage;
                if (!string.IsNullOrEmpty(text)) await SendAsync(SpdyFrameWriter.Data(error, Encoding.UTF8.GetBytes(text)), ct);
                await SendAsync(SpdyFrameWriter.Data(error, [], fin: true), ct);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            return;
        }
        await Task.WhenAny(_reading, Task.Delay(TimeSpan.FromSeconds(2), ct));
    }

    private uint? Stream(string type)
    {
        lock (_gate) return _byType.TryGetValue(type, out var id) ? id : null;
    }

    private async Task ReadAsync(CancellationToken ct)
    {
        using var reader = new SpdyFrameReader(transport);
        try
        {
            while (await reader.ReadAsync(ct) is { } frame)
            {
                switch (frame)
                {
                    case SynStreamFrame syn:
                        await OpenStreamAsync(syn, ct);
                        break;
                    case DataFrame data:
                        await DeliverAsync(data, ct);
                        break;
                    case RstStreamFrame rst when TypeOf(rst.StreamId) == "stdin":
                        _stdin.Writer.TryComplete();
                        break;
                    case PingFrame ping:
                        await SendAsync(SpdyFrameWriter.Ping(ping.Id), ct);
                        break;
                    case GoAwayFrame:
                        return;
                }
            }
        }
        catch (SpdyProtocolException e)
        {
            log.LogInformation("remote command ended: {Message}", e.Message);
            try { await SendAsync(SpdyFrameWriter.GoAway(0), CancellationToken.None); }
            catch (Exception sending) when (sending is IOException or ObjectDisposedException) { }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or ChannelClosedException)
        {
            // the client (or the relay in front of it) went away
        }
        finally
        {
            _stdin.Writer.TryComplete();
            _resize.Writer.TryComplete();
            _ready.TrySetResult(false);
        }
    }

    private string? TypeOf(uint streamId)
    {
        lock (_gate) return _byStream.GetValueOrDefault(streamId);
    }

    private async Task OpenStreamAsync(SynStreamFrame syn, CancellationToken ct)
    {
        await _sender.SynReplyAsync(syn.StreamId, ct);
        var type = syn.Headers.GetValueOrDefault("streamtype");
        if (type is not ("error" or "stdin" or "stdout" or "stderr" or "resize"))
        {
            log.LogInformation("remote command: unexpected stream type {Type}", type);
            return;
        }
        bool complete;
        lock (_gate)
        {
            _byType[type] = syn.StreamId;
            _byStream[syn.StreamId] = type;
            complete = _byType.Count >= Expected;
        }
        if (type == "stdin" && syn.Fin) _stdin.Writer.TryComplete();
        if (complete) _ready.TrySetResult(true);
    }

    private async Task DeliverAsync(DataFrame data, CancellationToken ct)
    {
        switch (TypeOf(data.StreamId))
        {
            case "stdin":
                if (data.Data.Length > 0 && wanted.Stdin)
                {
                    try { await _stdin.Writer.WriteAsync(data.Data, ct); }
                    catch (ChannelClosedException) { }
                }
                if (data.Fin) _stdin.Writer.TryComplete();
                break;
            case "resize":
                foreach (var size in TerminalSizes(data.Data)) _resize.Writer.TryWrite(size);
                break;
        }
    }

    /// <summary>The resize stream is JSON objects one after another ({"Width":80,"Height":24}), split anywhere.</summary>
    private IEnumerable<(int, int)> TerminalSizes(byte[] bytes)
    {
        var sizes = new List<(int, int)>();
        foreach (var b in bytes)
        {
            _resizeBytes.Add(b);
            if (b != (byte)'}') continue;
            try
            {
                var size = JsonSerializer.Deserialize<TerminalSize>(_resizeBytes.ToArray());
                if (size is { Width: > 0, Height: > 0 }) sizes.Add((size.Width, size.Height));
                _resizeBytes.Clear();
            }
            catch (JsonException)
            {
                if (_resizeBytes.Count > 4096) _resizeBytes.Clear(); // never a size: drop it
            }
        }
        return sizes;
    }

    private sealed record TerminalSize(int Width, int Height);

    private async Task PumpStdinAsync(IExecSession session, CancellationToken ct)
    {
        if (!wanted.Stdin) return;
        try
        {
            await foreach (var chunk in _stdin.Reader.ReadAllAsync(ct))
                await session.WriteStdinAsync(chunk, 0, chunk.Length, ct);
            session.CloseStdin();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
    }

    private async Task PumpResizeAsync(IExecSession session, CancellationToken ct)
    {
        try
        {
            await foreach (var (width, height) in _resize.Reader.ReadAllAsync(ct))
                await session.ResizeAsync(width, height, ct);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
    }

    private Task SendAsync(byte[] frame, CancellationToken ct) => _sender.SendAsync(frame, ct);
}
