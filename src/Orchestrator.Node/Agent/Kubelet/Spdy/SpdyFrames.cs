using System.Buffers.Binary;

namespace Orchestrator.Node.Agent.Kubelet.Spdy;

/// <summary>The SPDY/3 frames a port-forward server reads (draft 3, section 2.2); the rest are skipped.</summary>
internal abstract record SpdyFrame;

internal sealed record SynStreamFrame(uint StreamId, bool Fin, IReadOnlyDictionary<string, string> Headers) : SpdyFrame;

internal sealed record DataFrame(uint StreamId, bool Fin, byte[] Data) : SpdyFrame;

internal sealed record RstStreamFrame(uint StreamId, uint Status) : SpdyFrame;

internal sealed record PingFrame(uint Id) : SpdyFrame;

internal sealed record GoAwayFrame(uint LastGoodStreamId) : SpdyFrame;

/// <summary>SETTINGS, WINDOW_UPDATE, SYN_REPLY, HEADERS: nothing a port-forward server acts on (spdystream, the
/// client kubectl uses, does no flow control).</summary>
internal sealed record IgnoredFrame(ushort Type) : SpdyFrame;

internal static class SpdyFrameType
{
    public const ushort SynStream = 1, SynReply = 2, RstStream = 3, Settings = 4, Ping = 6, GoAway = 7, Headers = 8, WindowUpdate = 9;
    public const byte FlagFin = 0x01;
    public const uint RstProtocolError = 1, RstCancel = 5;
}

/// <summary>Reads frames from a byte stream: an 8-byte header (control bit, version and type, or stream id;
/// flags and a 24-bit length), then the payload. Returns null at a clean end of the stream.</summary>
internal sealed class SpdyFrameReader(Stream input) : IDisposable
{
    private readonly HeaderBlockDecoder _headers = new();
    private readonly byte[] _head = new byte[8];

    public async Task<SpdyFrame?> ReadAsync(CancellationToken ct)
    {
        var got = await input.ReadAtLeastAsync(_head, _head.Length, throwOnEndOfStream: false, ct);
        if (got == 0) return null;
        if (got < _head.Length) throw new SpdyProtocolException("connection ended inside a frame header");
        var first = BinaryPrimitives.ReadUInt32BigEndian(_head);
        var second = BinaryPrimitives.ReadUInt32BigEndian(_head.AsSpan(4));
        var flags = (byte)(second >> 24);
        var length = (int)(second & 0xffffff);
        var payload = new byte[length];
        await input.ReadExactlyAsync(payload, ct);
        if ((first & 0x80000000) == 0)
            return new DataFrame(first & 0x7fffffff, (flags & SpdyFrameType.FlagFin) != 0, payload);

        var version = (first >> 16) & 0x7fff;
        if (version != 3) throw new SpdyProtocolException($"unsupported SPDY version {version}");
        var type = (ushort)(first & 0xffff);
        return type switch
        {
            SpdyFrameType.SynStream when length >= 10 => new SynStreamFrame(
                StreamId(payload, 0), (flags & SpdyFrameType.FlagFin) != 0, _headers.Decode(payload.AsSpan(10))),
            SpdyFrameType.RstStream when length >= 8 => new RstStreamFrame(StreamId(payload, 0), BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(4))),
            SpdyFrameType.Ping when length >= 4 => new PingFrame(BinaryPrimitives.ReadUInt32BigEndian(payload)),
            SpdyFrameType.GoAway when length >= 4 => new GoAwayFrame(StreamId(payload, 0)),
            // the peer's own header blocks in these keep the shared zlib stream going: decode and drop them
            SpdyFrameType.SynReply or SpdyFrameType.Headers when length > 4 => Drop(type, payload.AsSpan(4)),
            SpdyFrameType.SynStream or SpdyFrameType.RstStream or SpdyFrameType.Ping or SpdyFrameType.GoAway =>
                throw new SpdyProtocolException($"control frame {type} of {length} bytes is too short"),
            _ => new IgnoredFrame(type),
        };
    }

    private IgnoredFrame Drop(ushort type, ReadOnlySpan<byte> block)
    {
        _headers.Decode(block);
        return new IgnoredFrame(type);
    }

    private static uint StreamId(byte[] payload, int offset) => BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(offset)) & 0x7fffffff;

    public void Dispose() => _headers.Dispose();
}

/// <summary>Builds the frames a port-forward server sends.</summary>
internal sealed class SpdyFrameWriter
{
    private readonly HeaderBlockEncoder _headers = new();

    /// <summary>Must be called in the order the frames go out: the header blocks share one zlib stream.</summary>
    public byte[] SynReply(uint streamId, IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        var block = _headers.Encode(headers ?? []);
        var payload = new byte[4 + block.Length];
        BinaryPrimitives.WriteUInt32BigEndian(payload, streamId);
        block.CopyTo(payload, 4);
        return Control(SpdyFrameType.SynReply, 0, payload);
    }

    public static byte[] Data(uint streamId, ReadOnlySpan<byte> data, bool fin = false)
    {
        var frame = new byte[8 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, streamId & 0x7fffffff);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (fin ? (uint)SpdyFrameType.FlagFin << 24 : 0) | (uint)data.Length);
        data.CopyTo(frame.AsSpan(8));
        return frame;
    }

    public static byte[] RstStream(uint streamId, uint status) => Control(SpdyFrameType.RstStream, 0, Numbers(streamId, status));

    public static byte[] Ping(uint id) => Control(SpdyFrameType.Ping, 0, Numbers(id));

    public static byte[] GoAway(uint lastGoodStreamId) => Control(SpdyFrameType.GoAway, 0, Numbers(lastGoodStreamId, 0));

    private static byte[] Numbers(params uint[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    private static byte[] Control(ushort type, byte flags, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, 0x80000000u | (3u << 16) | type);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), ((uint)flags << 24) | (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(8));
        return frame;
    }
}
