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

/// <summary>The proxy's L4 side in a real Kestrel host: a Redis-like echo server (it greets first) as the pod.</summary>
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

    private static async Task<string> Read(NetworkStream stream, int length)
    {
        var buffer = new byte[length];
        var got = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (got < length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(got), timeout.Token);
            if (n == 0) break;
            got += n;
        }
        return Encoding.ASCII.GetString(buffer, 0, got);
    }

    [Fact]
    public async Task A_server_that_speaks_first_is_forwarded_at_l4_after_the_sniff_timeout()
    {
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [Service("redis", "NodePort", port: 6379, nodePort: nodePort)], TestSlices.Of(EchoEndpoints(EchoPort))));

        await using var stream = await ConnectWhenListening(nodePort);
        Assert.Equal("+HELLO\r\n", await Read(stream, 8));
        await stream.WriteAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray());
        Assert.Equal("*1\r\n$4\r\nPING\r\n", await Read(stream, 14));
    }

    [Fact]
    public async Task A_client_that_speaks_first_without_http_is_forwarded_at_once()
    {
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [Service("redis", "NodePort", port: 6379, nodePort: nodePort)], TestSlices.Of(EchoEndpoints(EchoPort))));

        await using var stream = await ConnectWhenListening(nodePort);
        await stream.WriteAsync("PING\r\n"u8.ToArray());
        Assert.Equal("+HELLO\r\nPING\r\n", await Read(stream, 14));
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
        _proxy.Apply(new ServicesChanged(1, [Service("web", "NodePort", nodePort: nodePort)], TestSlices.Of(endpoints)));

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await ConnectWhenListening(nodePort);
        for (var i = 0; i < 10; i++)
        {
            var response = await http.GetAsync($"http://{NodeAddress}:{nodePort}/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("alive", await response.Content.ReadAsStringAsync());
        }
    }
}
