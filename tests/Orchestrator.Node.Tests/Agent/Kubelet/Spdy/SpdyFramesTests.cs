using Orchestrator.Node.Agent.Kubelet.Spdy;

namespace Orchestrator.Node.Tests.Agent.Kubelet.Spdy;

public sealed class SpdyFramesTests
{
    private static async Task<SpdyFrame?> ReadOne(params byte[][] frames)
    {
        using var reader = new SpdyFrameReader(new MemoryStream(frames.SelectMany(f => f).ToArray()));
        return await reader.ReadAsync(CancellationToken.None);
    }

    [Fact]
    public void Data_frames_carry_the_stream_id_the_fin_flag_and_a_24_bit_length()
    {
        var frame = SpdyFrameWriter.Data(5, [1, 2, 3], fin: true);
        Assert.Equal(new byte[] { 0, 0, 0, 5, 0x01, 0, 0, 3, 1, 2, 3 }, frame);
    }

    [Fact]
    public void Control_frames_carry_version_3_and_their_type()
    {
        Assert.Equal(new byte[] { 0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 7 }, SpdyFrameWriter.Ping(7));
        Assert.Equal(new byte[] { 0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0, 5 }, SpdyFrameWriter.RstStream(9, SpdyFrameType.RstCancel));
    }

    [Fact]
    public async Task Frames_read_back_as_written()
    {
        Assert.Equal(new PingFrame(7), await ReadOne(SpdyFrameWriter.Ping(7)));
        Assert.Equal(new RstStreamFrame(9, 5), await ReadOne(SpdyFrameWriter.RstStream(9, 5)));
        Assert.Equal(new GoAwayFrame(3), await ReadOne(SpdyFrameWriter.GoAway(3)));
        var data = Assert.IsType<DataFrame>(await ReadOne(SpdyFrameWriter.Data(5, [42], fin: true)));
        Assert.Equal((5u, true), (data.StreamId, data.Fin));
        Assert.Equal(new byte[] { 42 }, data.Data);
    }

    [Fact]
    public async Task A_syn_stream_reads_with_its_headers()
    {
        var block = new HeaderBlockEncoder().Encode([new("streamType", "data"), new("port", "80")]);
        var syn = Assert.IsType<SynStreamFrame>(await ReadOne(SpdyTestClient.SynStream(3, block)));
        Assert.Equal(3u, syn.StreamId);
        Assert.Equal("data", syn.Headers["streamtype"]);
    }

    [Fact]
    public async Task The_end_of_the_stream_between_frames_reads_as_null_inside_one_as_an_error()
    {
        Assert.Null(await ReadOne());
        await Assert.ThrowsAsync<SpdyProtocolException>(() => ReadOne([0, 0, 0, 1]));
        await Assert.ThrowsAnyAsync<EndOfStreamException>(() => ReadOne([0, 0, 0, 1, 0, 0, 0, 9, 1]));
    }

    [Fact]
    public async Task Another_spdy_version_is_refused()
    {
        await Assert.ThrowsAsync<SpdyProtocolException>(() => ReadOne([0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1]));
    }
}
