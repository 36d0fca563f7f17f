using Orchestrator.Node.Agent.Kubelet.Spdy;

namespace Orchestrator.Node.Tests.Agent.Kubelet.Spdy;

public sealed class SpdyHeaderBlocksTests
{
    // The first two header blocks kubectl 1.32 sent on a port-forward connection (captured with -v=9): one zlib
    // stream with the SPDY/3 dictionary and a sync flush after each block; the error and data streams of request 0
    // to port 45737.
    private static readonly byte[] ErrorStreamBlock = Convert.FromHexString(
        "78f9e3c6a7c202253a703a2b294a4dcc851625aca9a0808614cb45a024cc6a626a6e6ccec0c0c0590489c74c50fa663400000000ffff");
    private static readonly byte[] DataStreamBlock = Convert.FromHexString("82eac61445350f543425621807000000ffff");

    [Fact]
    public void The_dictionary_is_the_one_spdy3_defines()
    {
        Assert.Equal(1423, SpdyHeaderDictionary.Bytes.Length);
        // the DICTID in the zlib header of every stream kubectl compresses
        Assert.Equal(0xe3c6a7c2u, SpdyHeaderDictionary.Adler32);
    }

    [Fact]
    public void Kubectls_blocks_compressed_with_the_dictionary_decode_one_after_another()
    {
        using var decoder = new HeaderBlockDecoder();

        var error = decoder.Decode(ErrorStreamBlock);
        var data = decoder.Decode(DataStreamBlock);

        Assert.Equal(new Dictionary<string, string> { ["port"] = "45737", ["requestid"] = "0", ["streamtype"] = "error" }, error);
        Assert.Equal(new Dictionary<string, string> { ["port"] = "45737", ["requestid"] = "0", ["streamtype"] = "data" }, data);
    }

    [Fact]
    public void What_the_encoder_writes_the_decoder_reads_across_frames_with_lower_case_names()
    {
        var encoder = new HeaderBlockEncoder();
        using var decoder = new HeaderBlockDecoder();

        Assert.Empty(decoder.Decode(encoder.Encode([])));
        var second = decoder.Decode(encoder.Encode([new("StreamType", "data"), new("Port", "8080")]));
        // more than one stored block (65535 bytes at most each)
        var big = decoder.Decode(encoder.Encode([new("x", new string('v', 40_000)), new("y", new string('w', 40_000))]));

        Assert.Equal("data", second["streamtype"]);
        Assert.Equal("8080", second["port"]);
        Assert.Equal((40_000, 40_000), (big["x"].Length, big["y"].Length));
    }

    [Fact]
    public void Only_the_first_block_carries_the_zlib_header_and_each_ends_on_an_empty_stored_block()
    {
        var encoder = new HeaderBlockEncoder();
        var first = encoder.Encode([]);
        var next = encoder.Encode([]);

        Assert.Equal(new byte[] { 0x78, 0x01, 0x00, 0x04, 0x00, 0xfb, 0xff, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0xff, 0xff }, first);
        Assert.Equal(first[2..], next);
    }

    [Fact]
    public void A_stream_with_another_dictionary_or_no_zlib_header_is_a_protocol_error()
    {
        var otherDictionary = (byte[])ErrorStreamBlock.Clone();
        otherDictionary[5] ^= 0xff;
        Assert.Throws<SpdyProtocolException>(() => new HeaderBlockDecoder().Decode(otherDictionary));
        Assert.Throws<SpdyProtocolException>(() => new HeaderBlockDecoder().Decode([0x00, 0x01, 0x02]));
    }

    [Fact]
    public void A_truncated_block_is_a_protocol_error()
    {
        using var decoder = new HeaderBlockDecoder();
        Assert.Throws<SpdyProtocolException>(() => decoder.Decode(ErrorStreamBlock[..20]));
    }
}
