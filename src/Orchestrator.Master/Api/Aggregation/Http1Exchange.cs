using System.Globalization;
using System.Text;

namespace Orchestrator.Master.Api.Aggregation;

/// <summary>
/// One HTTP/1.1 request and its answer on a connection of its own (<c>Connection: close</c>). HttpClient writes a
/// header's several values as one comma-joined line, but the requestheader scheme gives each group its own
/// <c>X-Remote-Group</c> line (Go's Header.Add) and extension servers read each line as one group, so the aggregator
/// writes its requests itself. The answer's body is streamed: by Content-Length, chunked, or to the connection's end.
/// </summary>
internal static class Http1Exchange
{
    private const int MaxHeaderBytes = 1 << 20;

    public static async Task<Http1Response> SendAsync(Stream connection, string method, string target, string host,
        IEnumerable<(string Name, string Value)> headers, Stream? body, long? contentLength, CancellationToken ct)
    {
        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n");
        head.Append("Host: ").Append(host).Append("\r\n");
        foreach (var (name, value) in headers)
        {
            if (value.Contains('\r') || value.Contains('\n')) continue; // never a header of its own
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        var chunked = body is not null && contentLength is null;
        if (body is not null)
            head.Append(chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {contentLength}\r\n");
        head.Append("Connection: close\r\n\r\n");
        await connection.WriteAsync(Encoding.Latin1.GetBytes(head.ToString()), ct);
        if (body is not null) await WriteBodyAsync(connection, body, chunked, ct);
        await connection.FlushAsync(ct);

        var reader = new BufferedReader(connection);
        while (true)
        {
            var status = await reader.ReadLineAsync(ct) ?? throw new IOException("the connection closed before an answer");
            var parts = status.Split(' ', 3);
            if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) ||
                !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code))
                throw new IOException($"malformed HTTP response \"{Truncate(status)}\"");
            var responseHeaders = new List<(string Name, string Value)>();
            string? line;
            var total = 0;
            while ((line = await reader.ReadLineAsync(ct)) is { Length: > 0 })
            {
                total += line.Length;
                if (total > MaxHeaderBytes) throw new IOException("the answer's headers are too large");
                var colon = line.IndexOf(':');
                if (colon <= 0) throw new IOException($"malformed HTTP header \"{Truncate(line)}\"");
                responseHeaders.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }
            if (line is null) throw new IOException("the connection closed in the answer's headers");
            if (code is >= 100 and < 200 && code != 101) continue; // 100 Continue and other interim answers
            Stream responseBody;
            if (method == "HEAD" || code is 204 or 304) responseBody = Stream.Null;
            else if (Header(responseHeaders, "Transfer-Encoding") is { } te && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
                responseBody = new ChunkedReadStream(reader);
            else if (Header(responseHeaders, "Content-Length") is { } length &&
                     long.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                responseBody = new LengthReadStream(reader, n);
            else responseBody = new LengthReadStream(reader, long.MaxValue);
            return new Http1Response(code, responseHeaders, responseBody);
        }
    }

    public static string? Header(IEnumerable<(string Name, string Value)> headers, string name) =>
        headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    private static async Task WriteBodyAsync(Stream connection, Stream body, bool chunked, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            if (chunked) await connection.WriteAsync(Encoding.ASCII.GetBytes($"{read:X}\r\n"), ct);
            await connection.WriteAsync(buffer.AsMemory(0, read), ct);
            if (chunked) await connection.WriteAsync("\r\n"u8.ToArray(), ct);
        }
        if (chunked) await connection.WriteAsync("0\r\n\r\n"u8.ToArray(), ct);
    }

    private static string Truncate(string s) => s.Length > 80 ? s[..80] : s;

    /// <summary>Reads lines and bytes from the connection through one buffer.</summary>
    internal sealed class BufferedReader(Stream inner)
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _start, _end;

        public async Task<string?> ReadLineAsync(CancellationToken ct)
        {
            var line = new MemoryStream();
            while (true)
            {
                if (_start == _end && !await FillAsync(ct)) return line.Length == 0 ? null : Encoding.Latin1.GetString(line.ToArray());
                var span = _buffer.AsSpan(_start, _end - _start);
                var nl = span.IndexOf((byte)'\n');
                if (nl < 0)
                {
                    line.Write(span);
                    _start = _end;
                    if (line.Length > MaxHeaderBytes) throw new IOException("an HTTP line is too long");
                    continue;
                }
                line.Write(span[..nl]);
                _start += nl + 1;
                var bytes = line.ToArray();
                var length = bytes.Length > 0 && bytes[^1] == '\r' ? bytes.Length - 1 : bytes.Length;
                return Encoding.Latin1.GetString(bytes, 0, length);
            }
        }

        public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct)
        {
            if (_start == _end)
            {
                if (destination.Length >= _buffer.Length) return await inner.ReadAsync(destination, ct);
                if (!await FillAsync(ct)) return 0;
            }
            var n = Math.Min(destination.Length, _end - _start);
            _buffer.AsMemory(_start, n).CopyTo(destination);
            _start += n;
            return n;
        }

        private async Task<bool> FillAsync(CancellationToken ct)
        {
            _start = 0;
            _end = await inner.ReadAsync(_buffer, ct);
            return _end > 0;
        }
    }

    private abstract class ReadOnlyStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class LengthReadStream(BufferedReader reader, long length) : ReadOnlyStream
    {
        private long _left = length;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_left <= 0 || buffer.Length == 0) return 0;
            var n = await reader.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], ct);
            if (n == 0 && _left != long.MaxValue) throw new IOException("the connection closed before the answer's end");
            if (_left != long.MaxValue) _left -= n;
            return n;
        }
    }

    private sealed class ChunkedReadStream(BufferedReader reader) : ReadOnlyStream
    {
        private long _chunkLeft;
        private bool _done;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_done || buffer.Length == 0) return 0;
            if (_chunkLeft == 0)
            {
                var size = await reader.ReadLineAsync(ct) ?? throw new IOException("the connection closed in a chunked answer");
                var hex = size.Split(';')[0].Trim();
                if (!long.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _chunkLeft) || _chunkLeft < 0)
                    throw new IOException($"malformed chunk size \"{Truncate(size)}\"");
                if (_chunkLeft == 0)
                {
                    while (await reader.ReadLineAsync(ct) is { Length: > 0 }) { } // trailers
                    _done = true;
                    return 0;
                }
            }
            var n = await reader.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _chunkLeft)], ct);
            if (n == 0) throw new IOException("the connection closed in a chunked answer");
            _chunkLeft -= n;
            if (_chunkLeft == 0) await reader.ReadLineAsync(ct); // the chunk's CRLF
            return n;
        }
    }
}

/// <summary>An extension server's answer: status, headers in order, the body (owns the connection: dispose it).</summary>
internal sealed record Http1Response(int Status, IReadOnlyList<(string Name, string Value)> Headers, Stream Body);
