using System.Net;
using System.Net.Sockets;
using Orchestrator.Node.Proxy;

namespace Orchestrator.Node.Tests.Proxy;

/// <summary>The L4 copy thread between two real connected socket pairs: client ⇄ (proxy's client socket | proxy's
/// backend socket) ⇄ backend.</summary>
public sealed class TcpCopyLoopTests : IDisposable
{
    private readonly Socket _listen = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<Socket> _sockets = [];

    public TcpCopyLoopTests()
    {
        _listen.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listen.Listen();
    }

    public void Dispose()
    {
        foreach (var socket in _sockets) socket.Dispose();
        _listen.Dispose();
    }

    private async Task<(Socket Outside, Socket Proxy)> PairAsync()
    {
        var outside = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await outside.ConnectAsync(_listen.LocalEndPoint!);
        var proxy = await _listen.AcceptAsync();
        _sockets.Add(outside);
        return (outside, proxy);
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var received = new MemoryStream();
        var chunk = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int n;
        while ((n = await socket.ReceiveAsync(chunk, SocketFlags.None, timeout.Token)) > 0) received.Write(chunk, 0, n);
        return received.ToArray();
    }

    private static byte[] Payload(int length, int seed) => Enumerable.Range(0, length).Select(i => (byte)(i * 31 + seed)).ToArray();

    [Fact]
    public async Task Streams_larger_than_the_socket_buffers_pass_both_ways_in_order_with_their_ends()
    {
        Assert.True(TcpCopyLoop.IsSupported, "the test machine is Linux x64");
        var (client, proxyClient) = await PairAsync();
        var (backend, proxyBackend) = await PairAsync();
        var closed = new TaskCompletionSource();
        using var loop = new TcpCopyLoop();
        loop.Add(proxyClient, proxyBackend, () => closed.TrySetResult());

        // 16 MB up while the backend reads nothing yet: the backend's side fills and the loop must hold the rest
        var up = Payload(16 << 20, 1);
        var sending = Task.Run(async () =>
        {
            await client.SendAsync(up, SocketFlags.None);
            client.Shutdown(SocketShutdown.Send);
        });
        await Task.Delay(300);
        Assert.Equal(up, await ReadToEndAsync(backend)); // and then the client's FIN
        await sending;
        Assert.False(closed.Task.IsCompleted); // a client half-close leaves the answer's direction open

        var down = Payload(4 << 20, 7);
        await backend.SendAsync(down, SocketFlags.None);
        backend.Close();
        Assert.Equal(down, await ReadToEndAsync(client));
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_backend_that_closes_ends_the_connection_after_its_last_bytes()
    {
        var (client, proxyClient) = await PairAsync();
        var (backend, proxyBackend) = await PairAsync();
        var closed = new TaskCompletionSource();
        using var loop = new TcpCopyLoop();
        loop.Add(proxyClient, proxyBackend, () => closed.TrySetResult());

        await client.SendAsync("PING\r\n"u8.ToArray(), SocketFlags.None);
        var request = new byte[6];
        Assert.Equal(6, await backend.ReceiveAsync(request, SocketFlags.None));
        await backend.SendAsync("+PONG\r\n"u8.ToArray(), SocketFlags.None);
        backend.Close();

        Assert.Equal("+PONG\r\n"u8.ToArray(), await ReadToEndAsync(client));
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_client_reset_ends_the_connection()
    {
        var (client, proxyClient) = await PairAsync();
        var (backend, proxyBackend) = await PairAsync();
        var closed = new TaskCompletionSource();
        using var loop = new TcpCopyLoop();
        loop.Add(proxyClient, proxyBackend, () => closed.TrySetResult());

        client.LingerState = new LingerOption(true, 0); // close with RST
        client.Close();

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(await ReadToEndAsync(backend)); // the proxy closed its backend socket: the backend sees the end
    }

    [Fact]
    public async Task The_connect_outside_the_engine_connects_and_knows_its_peer()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var target = (IPEndPoint)_listen.LocalEndPoint!;

        await TcpForwarder.ConnectOutsideTheEngineAsync(socket, target);

        using var accepted = await _listen.AcceptAsync();
        Assert.Equal(target, socket.RemoteEndPoint);
    }

    [Fact]
    public async Task The_connect_outside_the_engine_fails_on_a_refusal()
    {
        using var closedPort = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closedPort.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // bound, not listening: connects are refused
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        await Assert.ThrowsAsync<SocketException>(() => TcpForwarder.ConnectOutsideTheEngineAsync(socket, (IPEndPoint)closedPort.LocalEndPoint!));
    }
}
