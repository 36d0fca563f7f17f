using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Orchestrator.Bench.Api;

/// <summary>What one watcher of the fan-out notes: the receipt of each event, each event's earliest receipt by any watcher,
/// how many reads completed an event's line, and the count of events still awaited by all watchers.</summary>
internal sealed class WatchReceipts(int events, long[] firstReceipt, CountdownEvent remaining)
{
    public List<(int Event, long At)> Receipts { get; } = new(events);
    public long Reads { get; private set; }

    private byte[] _buffer = new byte[64 * 1024];
    private int _filled; // bytes in _buffer[0.._filled), the start of a line not yet complete

    /// <summary>Takes the next bytes of the stream of events (JSON lines), all received at <paramref name="received"/>:
    /// every line completed by them is found and its event noted.</summary>
    public void Take(ReadOnlySpan<byte> data, long received)
    {
        while (_filled + data.Length > _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        data.CopyTo(_buffer.AsSpan(_filled));
        _filled += data.Length;
        var start = 0;
        var found = 0;
        for (int end; (end = Array.IndexOf(_buffer, (byte)'\n', start, _filled - start)) >= 0; start = end + 1)
        {
            if (EventNumber(_buffer.AsSpan(start, end - start), events) is not { } i) continue;
            long first; // the earliest receipt of this event by any watcher
            while (((first = Volatile.Read(ref firstReceipt[i])) == 0 || received < first)
                   && Interlocked.CompareExchange(ref firstReceipt[i], received, first) != first) { }
            Receipts.Add((i, received));
            found++;
        }
        if (found > 0)
        {
            Reads++;
            remaining.Signal(found);
        }
        // the incomplete line's start moves to the front
        _buffer.AsSpan(start, _filled - start).CopyTo(_buffer);
        _filled -= start;
    }

    private static ReadOnlySpan<byte> NamePrefix => "\"name\":\"ev"u8;

    /// <summary>N of the object named evNNNNNN in an event's line (the first "name" in it is the object's metadata.name),
    /// or null.</summary>
    private static int? EventNumber(ReadOnlySpan<byte> line, int events)
    {
        var at = line.IndexOf(NamePrefix);
        if (at < 0) return null;
        var digits = line[(at + NamePrefix.Length)..];
        var end = digits.IndexOf((byte)'"');
        if (end <= 0 || !System.Buffers.Text.Utf8Parser.TryParse(digits[..end], out int i, out var used) || used != end) return null;
        return i >= 0 && i < events ? i : null;
    }
}

/// <summary>
/// A watcher that reads its stream on a thread of its own with blocking calls: its own TCP connection and TLS session, an
/// HTTP/1.1 GET with the bearer token, the 200's chunked body decoded here. Each read is one blocking <c>recv</c> woken by the
/// kernel — where an async reader (HttpClient) costs per read the socket engine's epoll wake-up, a thread-pool hop and
/// SslStream's zero-byte read first (three system calls and two wake-ups). The bench's client shares the two cores with
/// the server, so what it spends per event is taken from the server's fan-out and creates.
/// </summary>
internal static class ThreadWatcher
{
    /// <summary>Connects, sends the watch and returns once its 200's headers are read; then reads every event into
    /// <paramref name="receipts"/> on a new thread until the server ends the stream or <paramref name="stop"/> closes it.
    /// The task returned completes when that thread ends (faulted if the stream could not be read).</summary>
    public static Task Start(Uri server, string token, string pathAndQuery, WatchReceipts receipts, CancellationToken stop)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        SslStream? tls = null;
        try
        {
            socket.Connect(server.Host, server.Port);
            tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false, (_, _, _, _) => true);
            tls.AuthenticateAsClient(new SslClientAuthenticationOptions
            {
                TargetHost = server.Host,
                ApplicationProtocols = [SslApplicationProtocol.Http11],
            });
            tls.Write(Encoding.ASCII.GetBytes($"GET {pathAndQuery} HTTP/1.1\r\nHost: {server.Authority}\r\n" +
                                              $"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"));
            var decoder = new ChunkedBody(tls);
            decoder.ReadHead();
            var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var stream = tls;
            new Thread(() =>
            {
                using var closing = stop.Register(() => socket.Dispose());
                try
                {
                    decoder.ReadBody(receipts);
                    ended.SetResult();
                }
                catch (Exception e) when (stop.IsCancellationRequested && e is IOException or ObjectDisposedException or SocketException)
                {
                    ended.SetResult();
                }
                catch (Exception e)
                {
                    ended.SetException(e);
                }
                finally { stream.Dispose(); }
            }) { IsBackground = true, Name = "watcher" }.Start();
            return ended.Task;
        }
        catch
        {
            if (tls is null) socket.Dispose();
            else tls.Dispose();
            throw;
        }
    }

    /// <summary>An HTTP/1.1 answer read from <paramref name="stream"/>: the head (a 200 with a chunked body, else an
    /// exception), then the chunks' data handed on as it arrives.</summary>
    private sealed class ChunkedBody(Stream stream)
    {
        private readonly byte[] _read = new byte[64 * 1024];
        private int _start, _end; // bytes read and not yet decoded: _read[_start.._end)

        public void ReadHead()
        {
            while (true)
            {
                var headEnd = _read.AsSpan(0, _end).IndexOf("\r\n\r\n"u8);
                if (headEnd >= 0)
                {
                    var head = Encoding.ASCII.GetString(_read, 0, headEnd);
                    if (!head.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal))
                        throw new InvalidOperationException($"watch answered: {head.Split("\r\n")[0]}");
                    if (!head.Contains("\r\nTransfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
                        throw new InvalidOperationException("watch answer is not chunked");
                    _start = headEnd + 4;
                    return;
                }
                if (_end == _read.Length) throw new InvalidOperationException("watch answer's head is too long");
                var n = stream.Read(_read, _end, _read.Length - _end);
                if (n == 0) throw new IOException("the watch ended before its answer's head");
                _end += n;
            }
        }

        /// <summary>Decodes chunks until the last (size 0) one or the connection's end; each read's data goes to the
        /// receipts timed at that read.</summary>
        public void ReadBody(WatchReceipts receipts)
        {
            var remaining = 0L; // data bytes of the current chunk not yet read; -1: its CRLF is next
            var received = Stopwatch.GetTimestamp();
            while (true)
            {
                while (_start < _end)
                {
                    if (remaining > 0)
                    {
                        var n = (int)Math.Min(remaining, _end - _start);
                        receipts.Take(_read.AsSpan(_start, n), received);
                        _start += n;
                        remaining -= n;
                        if (remaining == 0) remaining = -1;
                        continue;
                    }
                    var lineEnd = _read.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
                    if (lineEnd < 0) break; // the size line (or the data's CRLF) is not complete yet
                    if (remaining == -1)
                    {
                        if (lineEnd != 0) throw new InvalidOperationException("a chunk's data is not followed by CRLF");
                        remaining = 0;
                    }
                    else
                    {
                        var size = _read.AsSpan(_start, lineEnd);
                        if (size.IndexOf((byte)';') is >= 0 and var ext) size = size[..ext];
                        remaining = Convert.ToInt64(Encoding.ASCII.GetString(size).Trim(), 16);
                        if (remaining == 0) return; // the last chunk: the server ended the stream
                    }
                    _start += lineEnd + 2;
                }
                // keep what is not decoded yet at the front
                Array.Copy(_read, _start, _read, 0, _end - _start);
                _end -= _start;
                _start = 0;
                var read = stream.Read(_read, _end, _read.Length - _end);
                if (read == 0) return;
                received = Stopwatch.GetTimestamp();
                _end += read;
            }
        }
    }
}
