using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Agent.Kubelet.Spdy;

namespace Orchestrator.Node.Tests.Agent.Kubelet.Spdy;

/// <summary>The port-forward server over a loopback byte stream, dialling loopback "pod" ports.</summary>
public sealed class SpdyPortForwarderTests : IAsyncLifetime
{
    private readonly EchoServer _pod = new("hello ");
    private readonly CancellationTokenSource _stop = new();
    private NetworkStream _server = null!, _clientStream = null!;
    private SpdyTestClient _client = null!;
    private Task _serving = null!;

    public async Task InitializeAsync()
    {
        (_server, _clientStream) = await SpdyTestClient.ConnectedPairAsync();
        _client = new SpdyTestClient(_clientStream);
        var forwarder = new SpdyPortForwarder(_server, DialLoopbackAsync, "default/web", NullLogger.Instance);
        _serving = forwarder.RunAsync(_stop.Token);
    }

    private static async Task<Socket> DialLoopbackAsync(int port, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _serving.WaitAsync(TimeSpan.FromSeconds(10));
        _client.Dispose();
        await _clientStream.DisposeAsync();
        await _server.DisposeAsync();
        await _pod.DisposeAsync();
    }

    private async Task ExpectRepliesAsync(params uint[] streams)
    {
        foreach (var id in streams)
            Assert.Equal(new IgnoredFrame(SpdyFrameType.SynReply), await _client.NextAsync());
    }

    [Fact]
    public async Task Every_stream_is_answered_with_a_syn_reply()
    {
        await _client.OpenAsync(1, "error", _pod.Port, "0");
        await _client.OpenAsync(3, "data", _pod.Port, "0");
        await ExpectRepliesAsync(1, 3);
    }

    [Fact]
    public async Task Bytes_go_to_the_pod_port_and_back_then_data_and_error_streams_end()
    {
        await _client.OpenPairAsync(1, _pod.Port, "0");
        await ExpectRepliesAsync(1, 3);
        await _client.SendDataAsync(3, "abc");
        await _client.SendDataAsync(3, "def", fin: true);

        var others = new List<SpdyFrame>();
        Assert.Equal("hello ABCDEF", await _client.ReadStreamAsync(3, others));
        Assert.Equal("", await _client.ReadStreamAsync(1));
        Assert.Empty(others);
    }

    [Fact]
    public async Task Concurrent_requests_each_get_their_own_pod_connection()
    {
        await _client.OpenPairAsync(1, _pod.Port, "0");
        await _client.OpenPairAsync(5, _pod.Port, "1");
        await _client.SendDataAsync(7, "second", fin: true);
        await _client.SendDataAsync(3, "first", fin: true);

        // The pod greets as soon as it is dialled, so the first pair's data may arrive before
        // the second pair's replies: read one interleaved sequence of frames.
        var replies = 0;
        var received = new Dictionary<uint, string>();
        var text = new Dictionary<uint, string> { [3] = "", [7] = "" };
        while (received.Count < 2 || replies < 4)
        {
            switch (await _client.NextAsync())
            {
                case IgnoredFrame { Type: SpdyFrameType.SynReply }:
                    replies++;
                    break;
                case DataFrame { StreamId: 3 or 7 } data:
                    text[data.StreamId] += System.Text.Encoding.UTF8.GetString(data.Data);
                    if (data.Fin) received[data.StreamId] = text[data.StreamId];
                    break;
            }
        }
        Assert.Equal("hello FIRST", received[3]);
        Assert.Equal("hello SECOND", received[7]);
        Assert.Equal(2, _pod.Connections);
    }

    [Fact]
    public async Task A_refused_port_is_reported_on_the_error_stream()
    {
        int closedPort;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        await _client.OpenPairAsync(1, closedPort, "0");
        await ExpectRepliesAsync(1, 3);

        var error = await _client.ReadStreamAsync(1);
        Assert.Contains($"error forwarding port {closedPort} to pod default/web", error);
    }

    [Fact]
    public async Task A_reset_data_stream_drops_the_pod_connection_and_ends_the_error_stream()
    {
        await _client.OpenPairAsync(1, _pod.Port, "0");
        await ExpectRepliesAsync(1, 3);
        Assert.Equal("hello ", await ReadSomeAsync(3));

        await _client.SendAsync(SpdyFrameWriter.RstStream(3, SpdyFrameType.RstCancel));

        Assert.Equal("", await _client.ReadStreamAsync(1));
    }

    [Fact]
    public async Task A_pod_that_resets_its_connection_ends_the_data_and_error_streams()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await _client.OpenPairAsync(1, port, "0");
        using (var accepted = await listener.AcceptSocketAsync())
        {
            accepted.LingerState = new LingerOption(true, 0); // close with RST
        }
        await ExpectRepliesAsync(1, 3);

        Assert.Equal("", await _client.ReadStreamAsync(3));
        Assert.Equal("", await _client.ReadStreamAsync(1));
    }

    [Fact]
    public async Task Pings_are_echoed()
    {
        await _client.SendAsync(SpdyFrameWriter.Ping(11));
        Assert.Equal(new PingFrame(11), await _client.NextAsync());
    }

    [Fact]
    public async Task An_unknown_stream_type_is_reset()
    {
        await _client.OpenAsync(1, "resize", _pod.Port, "0");
        await ExpectRepliesAsync(1);
        Assert.Equal(new RstStreamFrame(1, SpdyFrameType.RstProtocolError), await _client.NextAsync());
    }

    [Fact]
    public async Task The_session_ends_when_the_client_goes_away()
    {
        await _client.OpenPairAsync(1, _pod.Port, "0");
        await ExpectRepliesAsync(1, 3);
        _clientStream.Socket.Shutdown(SocketShutdown.Send);
        await _serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private async Task<string> ReadSomeAsync(uint streamId)
    {
        while (true)
        {
            if (await _client.NextAsync() is DataFrame data && data.StreamId == streamId)
                return System.Text.Encoding.UTF8.GetString(data.Data);
        }
    }
}
