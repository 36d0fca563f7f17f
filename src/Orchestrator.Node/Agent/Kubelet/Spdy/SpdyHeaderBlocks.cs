using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Orchestrator.Node.Agent.Kubelet.Spdy;

/// <summary>A peer broke the SPDY framing; the connection cannot go on.</summary>
internal sealed class SpdyProtocolException(string message) : Exception(message);

/// <summary>
/// Reads the header blocks of one direction of a SPDY/3 connection: a single zlib stream across all frames, each
/// frame's part ending on a sync flush, compressed with <see cref="SpdyHeaderDictionary"/>. .NET's inflater takes no
/// preset dictionary, so the decoder feeds it the dictionary first as a stored deflate block and discards that
/// output: the peer's back-references into the dictionary then land on those bytes, which is all a preset
/// dictionary is. Header names come out lower-case (SPDY requires it).
/// </summary>
internal sealed class HeaderBlockDecoder : IDisposable
{
    private const int MaxPairs = 256, MaxLength = 64 * 1024;
    private readonly ChunkedInput _input = new();
    private DeflateStream? _inflater;
    private bool _dictionaryQueued;

    public IReadOnlyDictionary<string, string> Decode(ReadOnlySpan<byte> block)
    {
        if (_inflater is null)
        {
            block = StartStream(block);
            _inflater = new DeflateStream(_input, CompressionMode.Decompress, leaveOpen: true);
            if (_dictionaryQueued) Skip(SpdyHeaderDictionary.Bytes.Length);
        }
        _input.Add(block.ToArray());
        try
        {
            var count = ReadNumber();
            if (count > MaxPairs) throw new SpdyProtocolException($"too many headers ({count})");
            var headers = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var name = ReadString().ToLowerInvariant();
                // several values travel NUL-separated; port forwarding never sends more than one
                headers[name] = ReadString();
            }
            return headers;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException)
        {
            throw new SpdyProtocolException($"bad header block: {e.Message}");
        }
    }

    /// <summary>Checks the zlib header of the first block and queues the dictionary if the peer uses it.</summary>
    private ReadOnlySpan<byte> StartStream(ReadOnlySpan<byte> block)
    {
        if (block.Length < 2 || (block[0] & 0x0f) != 8 || ((block[0] << 8) | block[1]) % 31 != 0)
            throw new SpdyProtocolException("header block does not start a zlib stream");
        if ((block[1] & 0x20) == 0) return block[2..];
        if (block.Length < 6) throw new SpdyProtocolException("header block too short for its dictionary id");
        var id = BinaryPrimitives.ReadUInt32BigEndian(block[2..6]);
        if (id != SpdyHeaderDictionary.Adler32)
            throw new SpdyProtocolException($"header block uses an unknown dictionary (id {id:x8})");
        _input.Add(StoredBlocks.Encode(SpdyHeaderDictionary.Bytes));
        _dictionaryQueued = true;
        return block[6..];
    }

    private uint ReadNumber()
    {
        Span<byte> number = stackalloc byte[4];
        _inflater!.ReadExactly(number);
        return BinaryPrimitives.ReadUInt32BigEndian(number);
    }

    private string ReadString()
    {
        var length = ReadNumber();
        if (length > MaxLength) throw new SpdyProtocolException($"header of {length} bytes");
        var bytes = new byte[length];
        _inflater!.ReadExactly(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    private void Skip(int count)
    {
        var buffer = new byte[count];
        _inflater!.ReadExactly(buffer);
    }

    public void Dispose() => _inflater?.Dispose();

    /// <summary>The compressed bytes received so far; an empty queue reads as "no more yet" (0), never blocks.</summary>
    private sealed class ChunkedInput : Stream
    {
        private readonly Queue<byte[]> _chunks = new();
        private int _offset;

        public void Add(byte[] chunk)
        {
            if (chunk.Length > 0) _chunks.Enqueue(chunk);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_chunks.Count == 0) return 0;
            var head = _chunks.Peek();
            var n = Math.Min(buffer.Length, head.Length - _offset);
            head.AsSpan(_offset, n).CopyTo(buffer);
            _offset += n;
            if (_offset == head.Length)
            {
                _chunks.Dequeue();
                _offset = 0;
            }
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>
/// Writes the header blocks of our direction as one zlib stream of stored (uncompressed) deflate blocks: every
/// inflater reads them, each frame's part ends on a byte boundary as a sync flush would, and our blocks are a few
/// bytes, so compressing them would gain nothing. The stream names no dictionary, which zlib allows.
/// </summary>
internal sealed class HeaderBlockEncoder
{
    private bool _started;

    public byte[] Encode(IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        var raw = new MemoryStream();
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(number, (uint)headers.Count);
        raw.Write(number);
        foreach (var (name, value) in headers)
        {
            foreach (var text in new[] { name.ToLowerInvariant(), value })
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                BinaryPrimitives.WriteUInt32BigEndian(number, (uint)bytes.Length);
                raw.Write(number);
                raw.Write(bytes);
            }
        }
        // then an empty stored block, as a sync flush ends: Go's inflater hands out a stored block's bytes only
        // when it reads the next block header, and must find that header in this frame
        byte[] blocks = [.. StoredBlocks.Encode(raw.ToArray()), .. StoredBlocks.Encode([])];
        if (_started) return blocks;
        _started = true;
        // CMF 0x78 (deflate, 32K window), FLG 0x01: no dictionary, check bits so that 0x7801 % 31 == 0
        return [0x78, 0x01, .. blocks];
    }
}

/// <summary>Non-final stored deflate blocks: 0x00, LEN and its complement (little-endian), then the bytes.</summary>
internal static class StoredBlocks
{
    public static byte[] Encode(ReadOnlySpan<byte> data)
    {
        var output = new MemoryStream();
        do // an empty input still makes one (empty) block
        {
            var n = Math.Min(data.Length, ushort.MaxValue);
            output.WriteByte(0);
            output.WriteByte((byte)n);
            output.WriteByte((byte)(n >> 8));
            output.WriteByte((byte)~n);
            output.WriteByte((byte)(~n >> 8));
            output.Write(data[..n]);
            data = data[n..];
        } while (data.Length > 0);
        return output.ToArray();
    }
}
