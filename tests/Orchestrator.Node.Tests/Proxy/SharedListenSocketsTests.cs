using Orchestrator.Node.Tests.Services;
using System.Globalization;
using System.Net.Sockets;
using System.Net;
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

/// <summary>Several node processes on one machine serve the same ClusterIP:port / externalIP:port (SO_REUSEPORT).</summary>
public sealed class SharedListenSocketsTests
{
    [Fact]
    public void Two_sockets_bind_and_listen_on_the_same_shared_endpoint()
    {
        var endPoint = new IPEndPoint(IPAddress.Parse("127.0.0.91"), ServiceProxyTests.FreePort(IPAddress.Parse("127.0.0.91")));
        var sockets = new SharedListenSockets { Shared = new HashSet<IPEndPoint> { endPoint } };

        using var first = sockets.Create(endPoint);
        using var second = sockets.Create(endPoint);
        first.Listen();
        second.Listen();

        Assert.True(SharedListenSockets.IsShared(first));
        Assert.True(SharedListenSockets.IsShared(second));
        Assert.Equal(2, TestNetwork.ListeningSockets(endPoint));
        using var client = new TcpClient();
        client.Connect(endPoint);
    }

    [Fact]
    public void An_endpoint_that_is_not_shared_still_binds_exclusively()
    {
        var address = IPAddress.Parse("127.0.0.92");
        var endPoint = new IPEndPoint(address, ServiceProxyTests.FreePort(address));
        var sockets = new SharedListenSockets { Shared = new HashSet<IPEndPoint>() };

        using var first = sockets.Create(endPoint);
        first.Listen();

        Assert.False(SharedListenSockets.IsShared(first));
        var error = Assert.Throws<SocketException>(() => sockets.Create(endPoint));
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
    }

    [Fact]
    public void Cluster_ip_and_external_ip_listeners_are_shared_and_node_ports_are_not()
    {
        var service = Service("web", "NodePort", port: 80, nodePort: 30080, externalIps: ["127.0.0.50"]);
        service.Spec.ClusterIP = "172.28.128.9";

        var plan = YarpConfigFromEndpoints.Build(new ServicesChanged(1, [service], []), IPAddress.Parse("127.0.0.11"), clusterIps: true);

        var shared = plan.Listeners.ToDictionary(l => l.EndPoint.ToString(), l => l.Shared);
        Assert.Equal(new Dictionary<string, bool> { ["172.28.128.9:80"] = true, ["127.0.0.50:80"] = true, ["127.0.0.11:30080"] = false }, shared);
    }

    /// <summary>Two node proxies (each its own Kestrel host, as two node processes) serve one loopback externalIP
    /// at the same port; when one stops the other keeps answering.</summary>
    [Fact]
    public async Task Two_proxies_serve_the_same_external_ip_and_one_survives_the_other()
    {
        var backendPort = ServiceProxyTests.FreePort(IPAddress.Loopback);
        var backend = WebApplication.CreateBuilder();
        backend.Logging.ClearProviders();
        backend.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, backendPort));
        await using var pod = backend.Build();
        pod.Run(ctx => ctx.Response.WriteAsync("pod"));
        await pod.StartAsync();

        var externalIp = IPAddress.Parse("127.0.0.93");
        var port = ServiceProxyTests.FreePort(externalIp);
        var services = new ServicesChanged(1, [Service("web", port: port, externalIps: [externalIp.ToString()])],
            TestSlices.Of(Endpoints("web", null, backendPort, ["127.0.0.1"])));
        var nodeA = await StartProxy(IPAddress.Parse("127.0.0.94"), services);
        await using var nodeB = await StartProxy(IPAddress.Parse("127.0.0.95"), services);

        var endPoint = new IPEndPoint(externalIp, port);
        await TestNetwork.Eventually(() => Assert.Equal(2, TestNetwork.ListeningSockets(endPoint)));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Assert.Equal("pod", await http.GetStringAsync($"http://{endPoint}/"));

        await nodeA.DisposeAsync();
        Assert.Equal(1, TestNetwork.ListeningSockets(endPoint));
        for (var i = 0; i < 5; i++)
            Assert.Equal("pod", await new HttpClient().GetStringAsync($"http://{endPoint}/"));
    }

    private static async Task<WebApplication> StartProxy(IPAddress nodeAddress, ServicesChanged services)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ServiceDirectory>();
        builder.AddServiceProxy(nodeAddress, new IPEndPoint(nodeAddress, ServiceProxyTests.FreePort(nodeAddress)));
        var app = builder.Build();
        app.MapServiceProxy();
        await app.StartAsync();
        app.Services.GetRequiredService<ServiceProxy>().Apply(services);
        return app;
    }
}
