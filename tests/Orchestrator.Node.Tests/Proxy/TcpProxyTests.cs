using Orchestrator.Node.Tests.Services;
using System.Net.Sockets;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Proxy;
using Orchestrator.Node.Services;
using Orchestrator.Shared.Protocol;
using k8s.Models;
using static Orchestrator.Node.Tests.Proxy.YarpConfigFromEndpointsTests;

namespace Orchestrator.Node.Tests.Proxy;

/// <summary>The proxy's L4 side (every port whose appProtocol is not HTTP) in a real node host: a Redis-like echo server
/// (it greets first) as the pod.</summary>
public sealed class TcpProxyTests : IAsyncLifetime
{
    private static readonly IPAddress NodeAddress = IPAddress.Parse("127.0.0.78");
    private readonly TcpListener _echo = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private WebApplication _node = null!;
    private ServiceProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        _echo.Start();
        _ = AcceptLoop();
        var node = WebApplication.CreateBuilder();
        node.Logging.ClearProviders();
        node.Services.AddSingleton<ServiceDirectory>();
        node.AddServiceProxy(NodeAddress, new IPEndPoint(NodeAddress, ServiceProxyTests.FreePort(NodeAddress)));
        _node = node.Build();
        _node.MapServiceProxy();
        await _node.StartAsync();
        _proxy = _node.Services.GetRequiredService<ServiceProxy>();
    }

    public async Task DisposeAsync()
    {
        _stop.Cancel();
        _echo.Stop();
        await _node.DisposeAsync();
    }

    private int EchoPort => ((IPEndPoint)_echo.LocalEndpoint).Port;

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _echo.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(async () =>
            {
                using var c = client;
                var stream = c.GetStream();
                await stream.WriteAsync("+HELLO\r\n"u8.ToArray());
                var buffer = new byte[1024];
                int n;
                while ((n = await stream.ReadAsync(buffer)) > 0) await stream.WriteAsync(buffer.AsMemory(0, n));
            });
        }
    }

    private V1Endpoints EchoEndpoints(params int[] ports)
    {
        var endpoints = new V1Endpoints { Metadata = new V1ObjectMeta { Name = "redis", NamespaceProperty = "default" }, Subsets = [] };
        foreach (var port in ports) endpoints.Subsets.Add(Endpoints("redis", null, port, ["127.0.0.1"]).Subsets[0]);
        return endpoints;
    }

    private static async Task<NetworkStream> ConnectWhenListening(int port)
    {
        for (var attempt = 0; ; attempt++)
        {
            var client = new TcpClient();
            try
            {
                await client.ConnectAsync(NodeAddress, port);
                return client.GetStream();
            }
            catch (SocketException) when (attempt < 50)
            {
                client.Dispose();
                await Task.Delay(100);
            }
        }
    }

    private static Task<string> Read(NetworkStream stream, int length) => Read(stream, length, TimeSpan.FromSeconds(5));

    /// <summary>What arrives within <paramref name="wait"/>; nothing when the connection is silent or ends in an error.</summary>
    private static async Task<string> ReadOrNothing(NetworkStream stream, int length, TimeSpan wait)
    {
        try { return await Read(stream, length, wait); }
        catch (Exception e) when (e is OperationCanceledException or IOException) { return ""; }
    }

    private static async Task<string> Read(NetworkStream stream, int length, TimeSpan wait)
    {
        var buffer = new byte[length];
        var got = 0;
        using var timeout = new CancellationTokenSource(wait);
        while (got < length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(got), timeout.Token);
            if (n == 0) break;
            got += n;
        }
        return Encoding.ASCII.GetString(buffer, 0, got);
    }

    [Fact]
    public async Task A_port_without_app_protocol_is_accepted_by_the_l4_listeners_and_a_server_that_speaks_first_is_heard_at_once()
    {
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [Service("redis", "NodePort", port: 6379, nodePort: nodePort)], TestSlices.Of(EchoEndpoints(EchoPort))));

        var listener = new IPEndPoint(NodeAddress, nodePort);
        Assert.Contains(listener, _node.Services.GetRequiredService<TcpListeners>().Current);
        Assert.DoesNotContain(listener, _node.Services.GetRequiredService<Listeners>().Current);
        await using var stream = await ConnectWhenListening(nodePort);
        Assert.Equal("+HELLO\r\n", await Read(stream, 8));
        await stream.WriteAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray());
        Assert.Equal("*1\r\n$4\r\nPING\r\n", await Read(stream, 14));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("redis")]
    public async Task A_connection_to_a_port_without_ready_endpoints_is_reset(string? appProtocol)
    {
        // kube-proxy REJECTs a service without endpoints: the client is refused at once, neither left hanging nor
        // given an empty answer
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [TcpService("redis", nodePort, appProtocol)], []));

        using var client = await ConnectedSocket(nodePort);
        await AssertReset(client);
    }

    [Fact]
    public async Task A_connection_whose_every_endpoint_refuses_is_reset()
    {
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        var dead = ServiceProxyTests.FreePort(IPAddress.Loopback); // nothing listens: like a pod that just died
        _proxy.Apply(new ServicesChanged(1, [Service("redis", "NodePort", port: 6379, nodePort: nodePort)], TestSlices.Of(EchoEndpoints(dead))));

        using var client = await ConnectedSocket(nodePort);
        await AssertReset(client);
    }

    /// <summary>The connection ends in a reset (an end of stream, or silence, fails).</summary>
    internal static async Task AssertReset(Socket client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var error = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            var buffer = new byte[16];
            while (await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0) { }
        });
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
    }

    /// <summary>A socket connected to the node port once its listener accepts (it binds in the background).</summary>
    private static async Task<Socket> ConnectedSocket(int port)
    {
        for (var attempt = 0; ; attempt++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(NodeAddress, port);
                return socket;
            }
            catch (SocketException) when (attempt < 50)
            {
                socket.Dispose();
                await Task.Delay(100);
            }
        }
    }

    [Fact]
    public async Task An_open_connection_survives_its_endpoint_being_withdrawn()
    {
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        var service = Service("redis", "NodePort", port: 6379, nodePort: nodePort);
        _proxy.Apply(new ServicesChanged(1, [service], TestSlices.Of(EchoEndpoints(EchoPort))));
        await using var stream = await ConnectWhenListening(nodePort);
        Assert.Equal("+HELLO\r\n", await Read(stream, 8));

        _proxy.Apply(new ServicesChanged(2, [service], [])); // draining: new connections see no endpoint

        await stream.WriteAsync("still\r\n"u8.ToArray());
        Assert.Equal("still\r\n", await Read(stream, 7));
    }

    [Fact]
    public async Task A_refused_connection_is_retried_on_another_endpoint_for_a_request_without_body()
    {
        var backend = WebApplication.CreateBuilder();
        backend.Logging.ClearProviders();
        var livePort = ServiceProxyTests.FreePort(IPAddress.Loopback);
        backend.WebHost.UseUrls($"http://127.0.0.1:{livePort}");
        await using var app = backend.Build();
        app.Run(ctx => ctx.Response.WriteAsync("alive"));
        await app.StartAsync();
        var deadPort = ServiceProxyTests.FreePort(IPAddress.Loopback); // nothing listens: like a pod that just died
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        var endpoints = EchoEndpoints(deadPort, livePort);
        endpoints.Metadata.Name = "web";
        _proxy.Apply(new ServicesChanged(1, [Service("web", "NodePort", nodePort: nodePort, appProtocol: "http")], TestSlices.Of(endpoints)));

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await ConnectWhenListening(nodePort);
        for (var i = 0; i < 10; i++)
        {
            var response = await http.GetAsync($"http://{NodeAddress}:{nodePort}/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("alive", await response.Content.ReadAsStringAsync());
        }
    }

    private static V1Service TcpService(string name, int nodePort, string? appProtocol = "redis")
    {
        var service = Service(name, "NodePort", port: 6379, nodePort: nodePort);
        service.Spec.Ports[0].AppProtocol = appProtocol;
        return service;
    }

    [Fact]
    public async Task A_port_whose_app_protocol_is_tcp_is_accepted_by_the_l4_listeners_not_kestrel()
    {
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [TcpService("redis", nodePort)], TestSlices.Of(EchoEndpoints(EchoPort))));

        var listener = new IPEndPoint(NodeAddress, nodePort);
        Assert.Contains(listener, _node.Services.GetRequiredService<TcpListeners>().Current);
        Assert.DoesNotContain(listener, _node.Services.GetRequiredService<Listeners>().Current);
        await using var stream = await ConnectWhenListening(nodePort);
        Assert.Equal("+HELLO\r\n", await Read(stream, 8));
        await stream.WriteAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray());
        Assert.Equal("*1\r\n$4\r\nPING\r\n", await Read(stream, 14));
    }

    [Fact]
    public async Task A_client_half_close_reaches_the_backend_and_its_answer_still_comes_back()
    {
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [TcpService("redis", nodePort)], TestSlices.Of(EchoEndpoints(EchoPort))));
        using var client = new TcpClient();
        await ConnectWhenListening(nodePort); // until the listener accepts
        await client.ConnectAsync(NodeAddress, nodePort);
        var stream = client.GetStream();

        await stream.WriteAsync("last words"u8.ToArray());
        client.Client.Shutdown(SocketShutdown.Send); // the echo server ends its loop on EOF and closes

        // everything up to the backend's own FIN: Read stops at the end of the stream
        Assert.Equal("+HELLO\r\nlast words", await Read(stream, 100));
    }

    [Fact]
    public async Task An_l4_connection_survives_its_endpoint_and_its_listener_going_away()
    {
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [TcpService("redis", nodePort)], TestSlices.Of(EchoEndpoints(EchoPort))));
        await using var stream = await ConnectWhenListening(nodePort);
        Assert.Equal("+HELLO\r\n", await Read(stream, 8));

        _proxy.Apply(new ServicesChanged(2, [], [])); // the service is gone: its listener closes, open connections drain

        Assert.Empty(_node.Services.GetRequiredService<TcpListeners>().Current);
        await stream.WriteAsync("still\r\n"u8.ToArray());
        Assert.Equal("still\r\n", await Read(stream, 7));
        using var late = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => late.ConnectAsync(NodeAddress, nodePort));
    }

    [Fact]
    public async Task A_port_moves_between_kestrel_and_the_l4_listeners_when_its_app_protocol_changes()
    {
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        var listener = new IPEndPoint(NodeAddress, nodePort);
        _proxy.Apply(new ServicesChanged(1, [TcpService("redis", nodePort, appProtocol: "http")], TestSlices.Of(EchoEndpoints(EchoPort))));
        (await ConnectWhenListening(nodePort)).Dispose();
        Assert.Contains(listener, _node.Services.GetRequiredService<Listeners>().Current);

        // Kestrel releases the port on its reload, after the L4 listener first tries to bind: the bind is retried
        _proxy.Apply(new ServicesChanged(2, [TcpService("redis", nodePort)], TestSlices.Of(EchoEndpoints(EchoPort))));

        Assert.DoesNotContain(listener, _node.Services.GetRequiredService<Listeners>().Current);
        Assert.Contains(listener, _node.Services.GetRequiredService<TcpListeners>().Current);
        for (var attempt = 0; ; attempt++)
        {
            // until Kestrel's listener is gone a connection may still reach it, which waits for an HTTP request and
            // never greets
            await using var stream = await ConnectWhenListening(nodePort);
            if (await ReadOrNothing(stream, 8, TimeSpan.FromSeconds(1)) == "+HELLO\r\n") break;
            Assert.True(attempt < 20, "the L4 listener never took the port over");
        }
    }

    [Fact]
    public async Task The_pump_copies_until_the_source_ends_and_then_half_closes_the_destination()
    {
        using var listen = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listen.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listen.Listen();
        using var a = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await a.ConnectAsync(listen.LocalEndPoint!);
        using var b = await listen.AcceptAsync();
        using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await c.ConnectAsync(listen.LocalEndPoint!);
        using var d = await listen.AcceptAsync();
        // a → b, pumped b → c, read at d; larger than one pump buffer so the loop goes round
        var payload = Enumerable.Range(0, TcpForwarder.PumpBufferSize * 3 + 17).Select(i => (byte)i).ToArray();

        var pump = TcpForwarder.PumpAsync(b, c);
        await a.SendAsync(payload);
        a.Shutdown(SocketShutdown.Send);
        var received = new List<byte>();
        var chunk = new byte[8192];
        int n;
        while ((n = await d.ReceiveAsync(chunk)) > 0) received.AddRange(chunk.AsSpan(0, n).ToArray());
        await pump;

        Assert.Equal(payload, received.ToArray()); // and the end of the stream arrived: the FIN went on
    }

    [Fact]
    public async Task An_l4_connection_falls_through_a_refusing_endpoint_to_a_live_one()
    {
        var deadPort = ServiceProxyTests.FreePort(IPAddress.Loopback); // nothing listens: like a pod that just died
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [TcpService("redis", nodePort)], TestSlices.Of(EchoEndpoints(deadPort, EchoPort))));

        for (var i = 0; i < 4; i++) // round robin starts at either endpoint: each connection reaches the live one
        {
            await using var stream = await ConnectWhenListening(nodePort);
            Assert.Equal("+HELLO\r\n", await Read(stream, 8));
        }
    }
}
