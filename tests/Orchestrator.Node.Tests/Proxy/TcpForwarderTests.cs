using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Orchestrator.Node.Proxy;

namespace Orchestrator.Node.Tests.Proxy;

public sealed class TcpForwarderTests
{
    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.ASCII.GetBytes(text));

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n", ProxyMode.Http)]
    [InlineData("POST /x HTTP/1.1\r\n", ProxyMode.Http)]
    [InlineData("*1\r\n$4\r\nPING\r\n", ProxyMode.Tcp)]
    [InlineData("PING\r\n", ProxyMode.Tcp)]
    public void First_bytes_decide(string first, ProxyMode mode) => Assert.Equal(mode, TcpForwarder.Classify(Bytes(first)));

    [Theory]
    [InlineData("G")]
    [InlineData("GE")]
    [InlineData("OPTIO")]
    public void A_prefix_of_a_method_needs_more_bytes(string first) => Assert.Null(TcpForwarder.Classify(Bytes(first)));

    [Fact]
    public async Task Sniffing_leaves_the_bytes_for_the_next_reader()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("GE"));
        var sniff = TcpForwarder.SniffAsync(pipe.Reader, CancellationToken.None);
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("T / HTTP/1.1\r\n"));

        Assert.Equal(ProxyMode.Http, await sniff);
        var result = await pipe.Reader.ReadAsync();
        Assert.Equal("GET / HTTP/1.1\r\n", Encoding.ASCII.GetString(result.Buffer.ToArray()));
    }

    [Fact]
    public async Task A_silent_client_is_tcp_after_the_sniff_timeout()
    {
        var pipe = new Pipe();
        var started = DateTime.UtcNow;
        Assert.Equal(ProxyMode.Tcp, await TcpForwarder.SniffAsync(pipe.Reader, CancellationToken.None));
        Assert.True(DateTime.UtcNow - started >= TcpForwarder.SniffTimeout - TimeSpan.FromMilliseconds(50));

        // the reader still works after the timed-out read
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("+OK\r\n"));
        var result = await pipe.Reader.ReadAsync();
        Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(result.Buffer.ToArray()));
    }
}
