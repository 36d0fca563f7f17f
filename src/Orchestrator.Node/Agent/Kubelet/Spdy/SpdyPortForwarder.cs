using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Agent.Kubelet.Spdy;

/// <summary>
/// The server side of Kubernetes' port-forward protocol (portforward.k8s.io) on one SPDY/3.1 connection. For every
/// local connection kubectl opens two streams with the headers <c>streamtype</c> (error, data), <c>port</c> and
/// <c>requestid</c>; once both of a request are there, this connects to the pod's port and copies bytes between the
/// data stream and the socket. A failure goes back as text on the error stream. Either side ending its half ends
/// that half of the socket; when the pod closes, the data stream and then the error stream get FIN, which is what
/// kubectl waits for before it lets the local connection go. RST_STREAM from kubectl drops the socket.
/// </summary>
internal sealed class SpdyPortForwarder(Stream transport, Func<int, CancellationToken, Task<Socket>> dial, string podName, ILogger log)
{
    private const int ChunkSize = 32 * 1024;
    private readonly SpdyFrameSender _sender = new(transport);
    private readonly object _gate = new();
    private readonly Dictionary<string, ForwardedConnection> _byRequest = new();
    private readonly Dictionary<uint, ForwardedConnection> _byStream = new();
    private readonly List<Task> _work = [];

    public async Task RunAsync(CancellationToken ct)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var reader = new SpdyFrameReader(transport);
        try
        {
            while (await reader.ReadAsync(session.Token) is { } frame)
            {
                switch (frame)
                {
                    case SynStreamFrame syn:
                        await OpenStreamAsync(syn, session.Token);
                        break;
                    case DataFrame data:
                        await DeliverAsync(data, session.Token);
                        break;
                    case RstStreamFrame rst:
                        Find(rst.StreamId)?.Cancel();
                        break;
                    case PingFrame ping:
                        await SendAsync(SpdyFrameWriter.Ping(ping.Id), session.Token);
                        break;
                    case GoAwayFrame:
                        return;
                }
            }
        }
        catch (SpdyProtocolException e)
        {
            log.LogInformation("port-forward to {Pod} ended: {Message}", podName, e.Message);
            await TrySendAsync(SpdyFrameWriter.GoAway(0), CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or System.Net.WebSockets.WebSocketException or OperationCanceledException)
        {
            // the client (or the relay in front of it) went away
        }
        finally
        {
            await session.CancelAsync();
            Task[] work;
            lock (_gate) work = [.. _work];
            // the pairs end on the cancellation (each catches its own errors); do not hang on a stuck socket
            try { await Task.WhenAll(work).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None); }
            catch (TimeoutException) { log.LogDebug("port-forward to {Pod}: stream pairs still ending", podName); }
        }
    }

    private async Task OpenStreamAsync(SynStreamFrame syn, CancellationToken ct)
    {
        await _sender.SynReplyAsync(syn.StreamId, ct);
        var type = syn.Headers.GetValueOrDefault("streamtype");
        if (type is not ("error" or "data"))
        {
            await SendAsync(SpdyFrameWriter.RstStream(syn.StreamId, SpdyFrameType.RstProtocolError), ct);
            return;
        }
        // clients before requestid paired the streams by id: the data stream follows its error stream
        var requestId = syn.Headers.GetValueOrDefault("requestid")
                        ?? (type == "error" ? syn.StreamId : syn.StreamId - 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
        ForwardedConnection? ready = null;
        lock (_gate)
        {
            if (!_byRequest.TryGetValue(requestId, out var connection))
                _byRequest[requestId] = connection = new ForwardedConnection(requestId, syn.Headers.GetValueOrDefault("port") ?? "");
            if (type == "error") connection.ErrorStream = syn.StreamId;
            else connection.DataStream = syn.StreamId;
            _byStream[syn.StreamId] = connection;
            if (connection is { ErrorStream: not null, DataStream: not null, Started: false })
            {
                connection.Started = true;
                ready = connection;
            }
        }
        if (ready is not null)
        {
            var task = Task.Run(() => ForwardAsync(ready, ct), CancellationToken.None);
            lock (_gate)
            {
                _work.RemoveAll(t => t.IsCompleted);
                _work.Add(task);
            }
        }
    }

    private async Task DeliverAsync(DataFrame data, CancellationToken ct)
    {
        var connection = Find(data.StreamId);
        // the error stream only carries our messages; kubectl closes its half at once
        if (connection is null || data.StreamId != connection.DataStream) return;
        if (data.Data.Length > 0)
        {
            try { await connection.Upstream.Writer.WriteAsync(data.Data, ct); }
            catch (ChannelClosedException) { }
        }
        if (data.Fin) connection.Upstream.Writer.TryComplete();
    }

    private async Task ForwardAsync(ForwardedConnection connection, CancellationToken sessionToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(sessionToken, connection.Reset);
        var ct = cts.Token;
        try
        {
            if (!int.TryParse(connection.Port, out var port) || port is < 1 or > 65535)
            {
                await FailAsync(connection, $"invalid port \"{connection.Port}\"", ct);
                return;
            }
            Socket socket;
            try
            {
                socket = await dial(port, ct);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or InvalidOperationException && !ct.IsCancellationRequested)
            {
                await FailAsync(connection, $"error forwarding port {port} to pod {podName}: {e.Message}", ct);
                return;
            }
            using (socket)
            {
                var upstream = CopyToPodAsync(connection, socket, ct);
                await CopyFromPodAsync(connection, socket, ct);
                // the pod closed: kubectl resets the pair once the data stream ends, nothing more goes upstream
                await cts.CancelAsync();
                await upstream;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or System.Net.WebSockets.WebSocketException)
        {
            log.LogDebug("port-forward stream pair {Request} to {Pod} ended: {Message}", connection.RequestId, podName, e.Message);
        }
        finally
        {
            connection.Upstream.Writer.TryComplete();
            // kubectl waits for the data stream to end, then reads the error stream to its end, before it lets the
            // local connection go; after its reset it waits for the error stream only
            if (!connection.Reset.IsCancellationRequested)
                await TrySendAsync(SpdyFrameWriter.Data(connection.DataStream!.Value, [], fin: true), sessionToken);
            await TrySendAsync(SpdyFrameWriter.Data(connection.ErrorStream!.Value, [], fin: true), sessionToken);
            lock (_gate)
            {
                _byRequest.Remove(connection.RequestId);
                _byStream.Remove(connection.ErrorStream!.Value);
                _byStream.Remove(connection.DataStream!.Value);
            }
        }
    }

    private async Task CopyToPodAsync(ForwardedConnection connection, Socket socket, CancellationToken ct)
    {
        try
        {
            await foreach (var chunk in connection.Upstream.Reader.ReadAllAsync(ct))
                await socket.SendAsync(chunk, SocketFlags.None, ct);
            // kubectl's local connection sent its last byte: pass the half-close on
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task CopyFromPodAsync(ForwardedConnection connection, Socket socket, CancellationToken ct)
    {
        var buffer = new byte[ChunkSize];
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (n == 0) return;
            await SendAsync(SpdyFrameWriter.Data(connection.DataStream!.Value, buffer.AsSpan(0, n)), ct);
        }
    }

    private async Task FailAsync(ForwardedConnection connection, string message, CancellationToken ct)
    {
        log.LogInformation("port-forward to {Pod}: {Message}", podName, message);
        await SendAsync(SpdyFrameWriter.Data(connection.ErrorStream!.Value, Encoding.UTF8.GetBytes(message)), ct);
    }

    private ForwardedConnection? Find(uint streamId)
    {
        lock (_gate) return _byStream.GetValueOrDefault(streamId);
    }

    private Task SendAsync(byte[] frame, CancellationToken ct) => _sender.SendAsync(frame, ct);

    private async Task TrySendAsync(byte[] frame, CancellationToken ct)
    {
        try { await SendAsync(frame, ct); }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or System.Net.WebSockets.WebSocketException) { }
    }

    private sealed class ForwardedConnection(string requestId, string port)
    {
        private readonly CancellationTokenSource _reset = new();
        public string RequestId { get; } = requestId;
        public string Port { get; } = port;
        public uint? ErrorStream { get; set; }
        public uint? DataStream { get; set; }
        public bool Started { get; set; }
        /// <summary>Bytes from kubectl on the way to the pod; bounded, so a slow pod slows the connection's reader.</summary>
        public Channel<byte[]> Upstream { get; } = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
        public CancellationToken Reset => _reset.Token;
        public void Cancel() => _reset.Cancel();
    }
}
