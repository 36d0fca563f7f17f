using Orchestrator.Node.Tests.Services;
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

/// <summary>The proxy in a real Kestrel host on 127.0.0.x, with three small Kestrel backends standing in for pods. Ports
/// with appProtocol http go through YARP (per request); the others are forwarded at L4 (per connection).</summary>
public sealed class ServiceProxyTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly IPAddress NodeAddress = IPAddress.Parse("127.0.0.77");
    private readonly List<WebApplication> _backends = [];
    private readonly List<int> _backendPorts = [];
    private WebApplication _node = null!;
    private ServiceProxy _proxy = null!;
    private readonly DenyPorts _policy = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    /// <summary>A new connection for every request: each is balanced at L4 on its own.</summary>
    private readonly HttpClient _fresh = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(5) };

    public async Task InitializeAsync()
    {
        foreach (var name in new[] { "pod-a", "pod-b", "pod-c" })
        {
            var port = FreePort(IPAddress.Loopback);
            var backend = WebApplication.CreateBuilder();
            backend.Logging.ClearProviders();
            backend.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
            var app = backend.Build();
            app.Run(ctx => ctx.Response.WriteAsync(name));
            await app.StartAsync();
            _backends.Add(app);
            _backendPorts.Add(port);
        }

        var node = WebApplication.CreateBuilder();
        node.Logging.ClearProviders();
        node.Services.AddSingleton<ServiceDirectory>();
        node.Services.AddSingleton<IConnectionPolicy>(_policy);
        node.AddServiceProxy(NodeAddress, new IPEndPoint(NodeAddress, FreePort(NodeAddress)));
        _node = node.Build();
        _node.MapServiceProxy();
        await _node.StartAsync();
        _proxy = _node.Services.GetRequiredService<ServiceProxy>();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        foreach (var backend in _backends) await backend.DisposeAsync();
        _http.Dispose();
        _fresh.Dispose();
    }

    /// <summary>Each backend is its own "pod IP" on 127.0.0.1; endpoints subsets carry one port, so one subset per backend.</summary>
    private V1Endpoints BackendEndpoints(string service, int count)
    {
        var endpoints = new V1Endpoints { Metadata = new V1ObjectMeta { Name = service, NamespaceProperty = "default" }, Subsets = [] };
        foreach (var port in _backendPorts.Take(count))
            endpoints.Subsets.Add(Endpoints(service, null, port, ["127.0.0.1"]).Subsets[0]);
        return endpoints;
    }

    [Fact]
    public async Task Requests_to_an_http_node_port_are_spread_over_all_ready_endpoints_even_on_one_connection()
    {
        var nodePort = FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [Service("web", "NodePort", nodePort: nodePort, appProtocol: "http")], TestSlices.Of(BackendEndpoints("web", 3))));

        var answers = new List<string>();
        for (var i = 0; i < 30; i++) answers.Add(await GetWhenListening($"http://{NodeAddress}:{nodePort}/")); // keep-alive

        var counts = answers.GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(["pod-a", "pod-b", "pod-c"], counts.Keys.Order());
        Assert.All(counts.Values, n => Assert.InRange(n, 9, 11)); // round robin
    }

    [Fact]
    public async Task Connections_to_a_port_without_app_protocol_are_spread_over_all_ready_endpoints_and_keep_their_pod()
    {
        var nodePort = FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [Service("web", "NodePort", nodePort: nodePort)], TestSlices.Of(BackendEndpoints("web", 3))));
        var url = $"http://{NodeAddress}:{nodePort}/";

        var answers = new List<string>();
        for (var i = 0; i < 30; i++) answers.Add(await GetWhenListening(url, _fresh));
        var counts = answers.GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(["pod-a", "pod-b", "pod-c"], counts.Keys.Order());
        Assert.All(counts.Values, n => Assert.InRange(n, 9, 11)); // round robin, per connection

        // as through kube-proxy: the requests of one keep-alive connection all reach the pod it was forwarded to
        var pinned = await GetWhenListening(url);
        for (var i = 0; i < 10; i++) Assert.Equal(pinned, await GetWhenListening(url));
    }

    [Fact]
    public async Task An_h2c_port_carries_http2_with_prior_knowledge_to_a_pod_that_speaks_only_http2()
    {
        // appProtocol kubernetes.io/h2c: HTTP/2 in clear text (RFC 7540 prior knowledge), as a gRPC server in a pod
        // speaks it; kube-proxy passes the connection through, so the client's HTTP/2 reaches the pod as it is
        var podPort = FreePort(IPAddress.Loopback);
        var pod = WebApplication.CreateBuilder();
        pod.Logging.ClearProviders();
        pod.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, podPort, o => o.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2));
        var app = pod.Build();
        app.Run(ctx => ctx.Response.WriteAsync($"grpc-pod {ctx.Request.Protocol}"));
        await app.StartAsync();
        _backends.Add(app);
        var nodePort = FreePort(NodeAddress);
        var endpoints = new V1Endpoints { Metadata = new V1ObjectMeta { Name = "grpc", NamespaceProperty = "default" }, Subsets = [Endpoints("grpc", null, podPort, ["127.0.0.1"]).Subsets[0]] };
        _proxy.Apply(new ServicesChanged(1, [Service("grpc", "NodePort", nodePort: nodePort, appProtocol: "kubernetes.io/h2c")], TestSlices.Of(endpoints)));

        using var h2c = new HttpClient
        {
            Timeout = TimeSpan.FromSeconds(5),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        for (var i = 0; i < 3; i++) Assert.Equal("grpc-pod HTTP/2", await GetWhenListening($"http://{NodeAddress}:{nodePort}/", h2c));
    }

    [Theory]
    [InlineData("http")]
    [InlineData(null)]
    public async Task Requests_reach_the_live_pod_when_several_endpoints_refuse_connections(string? appProtocol)
    {
        // a lost node takes all of its pods at once: two of three endpoints are dead until they are withdrawn (HTTP:
        // a request without body is sent again; L4: the connection falls through to the next endpoint)
        var nodePort = FreePort(NodeAddress);
        var endpoints = BackendEndpoints("lost", 1);
        foreach (var dead in new[] { FreePort(IPAddress.Loopback), FreePort(IPAddress.Loopback) })
            endpoints.Subsets.Add(Endpoints("lost", null, dead, ["127.0.0.1"]).Subsets[0]);
        _proxy.Apply(new ServicesChanged(1, [Service("lost", "NodePort", nodePort: nodePort, appProtocol: appProtocol)], TestSlices.Of(endpoints)));

        for (var i = 0; i < 30; i++) Assert.Equal("pod-a", await GetWhenListening($"http://{NodeAddress}:{nodePort}/", ClientFor(appProtocol)));
    }

    [Fact]
    public async Task An_http_port_without_ready_endpoints_answers_503()
    {
        var nodePort = FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [Service("web", "NodePort", nodePort: nodePort, appProtocol: "http")], []));

        var response = await SendWhenListening($"http://{NodeAddress}:{nodePort}/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Theory]
    [InlineData("http")]
    [InlineData(null)]
    public async Task Listeners_open_and_close_with_the_services_without_a_restart(string? appProtocol)
    {
        var first = FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [Service("web", "NodePort", nodePort: first, appProtocol: appProtocol)], TestSlices.Of(BackendEndpoints("web", 1))));
        Assert.Equal("pod-a", await GetWhenListening($"http://{NodeAddress}:{first}/"));

        var second = FreePort(NodeAddress);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        _proxy.Apply(new ServicesChanged(2, [Service("web", "NodePort", nodePort: second, appProtocol: appProtocol)], TestSlices.Of(BackendEndpoints("web", 1))));
        Assert.Equal("pod-a", await GetWhenListening($"http://{NodeAddress}:{second}/"));
        output.WriteLine($"new listener answered {stopwatch.Elapsed.TotalMilliseconds:0} ms after Apply");
        await AwaitClosed(first);

        _proxy.Apply(new ServicesChanged(3, [], []));
        await AwaitClosed(second);
    }

    /// <summary>Only new connections see the new endpoints at L4 (an open one keeps its pod), so those tests connect
    /// anew for each request; HTTP requests are balanced one by one, also on one connection.</summary>
    private HttpClient ClientFor(string? appProtocol) => appProtocol == "http" ? _http : _fresh;

    [Theory]
    [InlineData("http")]
    [InlineData(null)]
    public async Task Endpoint_changes_take_effect_on_an_open_listener(string? appProtocol)
    {
        var nodePort = FreePort(NodeAddress);
        var client = ClientFor(appProtocol);
        _proxy.Apply(new ServicesChanged(1, [Service("web", "NodePort", nodePort: nodePort, appProtocol: appProtocol)], TestSlices.Of(BackendEndpoints("web", 1))));
        Assert.Equal("pod-a", await GetWhenListening($"http://{NodeAddress}:{nodePort}/", client));

        var endpoints = BackendEndpoints("web", 3);
        endpoints.Subsets.RemoveAt(0);
        _proxy.Apply(new ServicesChanged(2, [Service("web", "NodePort", nodePort: nodePort, appProtocol: appProtocol)], TestSlices.Of(endpoints)));
        var answers = new HashSet<string>();
        for (var i = 0; i < 10; i++) answers.Add(await GetWhenListening($"http://{NodeAddress}:{nodePort}/", client));
        Assert.Equal(["pod-b", "pod-c"], answers.Order());
    }

    [Fact]
    public async Task A_loopback_external_IP_is_served_at_the_service_port()
    {
        var externalIp = IPAddress.Parse("127.0.0.78");
        var port = FreePort(externalIp);
        _proxy.Apply(new ServicesChanged(1, [Service("web", port: port, externalIps: [externalIp.ToString()])], TestSlices.Of(BackendEndpoints("web", 2))));

        var answers = new HashSet<string>();
        for (var i = 0; i < 4; i++) answers.Add(await GetWhenListening($"http://{externalIp}:{port}/", _fresh));
        Assert.Equal(["pod-a", "pod-b"], answers.Order());
    }

    [Theory]
    [InlineData("http")]
    [InlineData(null)]
    public async Task A_node_port_already_in_use_does_not_keep_the_other_listeners_from_opening(string? appProtocol)
    {
        using var squatter = new TcpListener(NodeAddress, 0);
        squatter.Start();
        var taken = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var free = FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1,
            [Service("a", "NodePort", nodePort: taken, appProtocol: appProtocol), Service("b", "NodePort", nodePort: free, appProtocol: appProtocol)],
            TestSlices.Of(BackendEndpoints("a", 1), BackendEndpoints("b", 1))));

        Assert.Equal("pod-a", await GetWhenListening($"http://{NodeAddress}:{free}/"));

        // and later reloads still work
        var another = FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(2,
            [
                Service("a", "NodePort", nodePort: taken, appProtocol: appProtocol), Service("b", "NodePort", nodePort: free, appProtocol: appProtocol),
                Service("c", "NodePort", nodePort: another, appProtocol: appProtocol),
            ],
            TestSlices.Of(BackendEndpoints("a", 1), BackendEndpoints("b", 1), BackendEndpoints("c", 2))));
        Assert.Contains(await GetWhenListening($"http://{NodeAddress}:{another}/"), new[] { "pod-a", "pod-b" });
    }

    [Theory]
    [InlineData("http")]
    [InlineData(null)]
    public async Task Client_ip_affinity_keeps_a_clients_connections_on_one_pod(string? appProtocol)
    {
        var nodePort = FreePort(NodeAddress);
        var service = Service("web", "NodePort", nodePort: nodePort, appProtocol: appProtocol);
        service.Spec.SessionAffinity = "ClientIP";
        _proxy.Apply(new ServicesChanged(1, [service], TestSlices.Of(BackendEndpoints("web", 3))));
        var url = $"http://{NodeAddress}:{nodePort}/";

        var first = await GetWhenListening(url, _fresh);
        for (var i = 0; i < 10; i++) Assert.Equal(first, await GetWhenListening(url, _fresh));
    }

    [Theory]
    [InlineData("http")]
    [InlineData(null)]
    public async Task A_NetworkPolicy_keeps_traffic_from_the_endpoints_it_denies(string? appProtocol)
    {
        var nodePort = FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [Service("web", "NodePort", nodePort: nodePort, appProtocol: appProtocol)], TestSlices.Of(BackendEndpoints("web", 3))));
        _policy.Denied = new HashSet<int> { _backendPorts[0], _backendPorts[1] };

        for (var i = 0; i < 6; i++) Assert.Equal("pod-c", await GetWhenListening($"http://{NodeAddress}:{nodePort}/", ClientFor(appProtocol)));
    }

    [Fact]
    public async Task A_connection_whose_every_endpoint_a_NetworkPolicy_denies_is_reset()
    {
        var nodePort = FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [Service("web", "NodePort", nodePort: nodePort)], TestSlices.Of(BackendEndpoints("web", 2))));
        _policy.Denied = _backendPorts.ToHashSet();

        // refused (not listening yet) until the listener is bound; then reset, never an answer or an empty one. A bare
        // socket: HttpClient reports a reset that comes right after the connect as "not connected" instead
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try { await client.ConnectAsync(NodeAddress, nodePort); }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { return; }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
                continue;
            }
            await TcpProxyTests.AssertReset(client);
            return;
        }
    }

    /// <summary>NetworkPolicy stand-in: denies every connection to the backend ports listed.</summary>
    private sealed class DenyPorts : IConnectionPolicy
    {
        public volatile IReadOnlySet<int> Denied = new HashSet<int>();
        public bool AllowsEverything => Denied.Count == 0;
        public bool Allows(IPAddress client, IPAddress backend, int port, string protocol = "TCP") => !Denied.Contains(port);
    }

    private async Task<string> GetWhenListening(string url, HttpClient? client = null)
    {
        var response = await SendWhenListening(url, client);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Kestrel and the L4 listeners bind new listeners in the background after a configuration change.</summary>
    private async Task<HttpResponseMessage> SendWhenListening(string url, HttpClient? client = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try { return await (client ?? _http).GetAsync(url); }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { await Task.Delay(50); }
        }
    }

    private static async Task AwaitClosed(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var client = new TcpClient();
            try { await client.ConnectAsync(NodeAddress, port); }
            catch (SocketException) { return; }
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"{NodeAddress}:{port} still accepts connections");
            await Task.Delay(50);
        }
    }

    internal static int FreePort(IPAddress address)
    {
        using var probe = new TcpListener(address, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
