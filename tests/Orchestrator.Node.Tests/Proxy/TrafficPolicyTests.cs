using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Proxy;
using Orchestrator.Node.Proxy.Ingress;
using Orchestrator.Node.Services;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Proxy;

/// <summary>
/// internalTrafficPolicy and sessionAffinityConfig through the proxy of node "n1" in a real Kestrel host, on both paths
/// (appProtocol http: YARP; none: L4). The "pods" are small Kestrel servers on 127.0.0.1, each an endpoint on the node
/// its slice names; the ClusterIP is a loopback address (<see cref="ClusterIpAddresses.AlreadyLocal"/>), and clients
/// bind to loopback addresses that the Nodes' pod ranges place on n1 or n2, as pods of those nodes.
/// </summary>
public sealed class TrafficPolicyTests : IAsyncLifetime
{
    private static readonly IPAddress NodeAddress = IPAddress.Parse("127.0.0.91");
    private static readonly IPAddress ClusterIp = IPAddress.Parse("127.0.0.92");
    private static readonly IPAddress PodOnN1 = IPAddress.Parse("127.0.0.93");
    private static readonly IPAddress PodOnN2 = IPAddress.Parse("127.0.0.94");
    private static readonly IReadOnlyList<NodePodRange> PodRanges = [new("n1", "127.0.0.93/32"), new("n2", "127.0.0.94/32")];

    private readonly Dictionary<string, int> _pods = new();
    private readonly List<WebApplication> _backends = [];
    private readonly ManualClock _clock = new();
    private WebApplication _node = null!;
    private ServiceProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        foreach (var name in new[] { "pod-a", "pod-b", "pod-c" })
        {
            var port = ServiceProxyTests.FreePort(IPAddress.Loopback);
            var backend = WebApplication.CreateBuilder();
            backend.Logging.ClearProviders();
            backend.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
            var app = backend.Build();
            app.Run(ctx => ctx.Response.WriteAsync(name));
            await app.StartAsync();
            _backends.Add(app);
            _pods[name] = port;
        }
        var node = WebApplication.CreateBuilder();
        node.Logging.ClearProviders();
        node.Services.AddSingleton<ServiceDirectory>();
        node.Services.AddSingleton(new ClientIpAffinity(_clock));
        node.Services.AddSingleton(ClusterIpAddresses.AlreadyLocal(NullLogger.Instance));
        node.AddServiceProxy(NodeAddress, new IPEndPoint(NodeAddress, ServiceProxyTests.FreePort(NodeAddress)), ingress: new IngressSettings(0, 0, "n1"));
        _node = node.Build();
        _node.MapServiceProxy();
        await _node.StartAsync();
        _proxy = _node.Services.GetRequiredService<ServiceProxy>();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        foreach (var backend in _backends) await backend.DisposeAsync();
    }

    private static V1Service Service(string? appProtocol, int port, string? internalPolicy = null, string? affinity = null, int? timeoutSeconds = null,
        int? nodePort = null, string? externalPolicy = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
        Spec = new V1ServiceSpec
        {
            Type = nodePort is null ? "ClusterIP" : "NodePort", ClusterIP = ClusterIp.ToString(), InternalTrafficPolicy = internalPolicy,
            ExternalTrafficPolicy = externalPolicy,
            SessionAffinity = affinity,
            SessionAffinityConfig = timeoutSeconds is null ? null : new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = timeoutSeconds } },
            Ports = [new V1ServicePort { Port = port, NodePort = nodePort, Protocol = "TCP", TargetPort = 80, AppProtocol = appProtocol }],
        },
    };

    /// <summary>One slice per pod (each pod listens on its own port), its endpoint on <paramref name="nodes"/>' node.</summary>
    private List<V1EndpointSlice> Slices(params (string Pod, string Node)[] nodes) => nodes.Select(n => new V1EndpointSlice
    {
        Metadata = new V1ObjectMeta
        {
            Name = $"web-{n.Pod}", NamespaceProperty = "default",
            Labels = new Dictionary<string, string> { [ServiceEndpoints.ServiceNameLabel] = "web" },
        },
        AddressType = "IPv4",
        Endpoints = [new V1Endpoint { Addresses = ["127.0.0.1"], NodeName = n.Node, Conditions = new V1EndpointConditions { Ready = true } }],
        Ports = [new Discoveryv1EndpointPort { Name = "", Port = _pods[n.Pod], Protocol = "TCP" }],
    }).ToList();

    /// <summary>As <see cref="Slices"/>, each endpoint hinted for <paramref name="zones"/>' zone.</summary>
    private List<V1EndpointSlice> HintedSlices(params (string Pod, string Node, string Zone)[] zones)
    {
        var slices = Slices(zones.Select(z => (z.Pod, z.Node)).ToArray());
        for (var i = 0; i < zones.Length; i++)
            slices[i].Endpoints[0].Hints = new V1EndpointHints { ForZones = [new V1ForZone { Name = zones[i].Zone }] };
        return slices;
    }

    [Theory]
    [InlineData("http")]
    [InlineData(null)]
    public async Task Zone_hints_send_each_client_to_the_endpoints_hinted_for_its_nodes_zone(string? appProtocol)
    {
        var port = ServiceProxyTests.FreePort(ClusterIp);
        _proxy.Apply(new ServicesChanged(1, [Service(appProtocol, port)],
            HintedSlices(("pod-a", "n1", "zone-a"), ("pod-b", "n2", "zone-b"), ("pod-c", "n2", "zone-b")), PodRanges: PodRanges,
            NodeZones: [new NodeZone("n1", "zone-a"), new NodeZone("n2", "zone-b")]));
        var url = $"http://{ClusterIp}:{port}/";

        var fromN1 = new HashSet<string>();
        var fromN2 = new HashSet<string>();
        for (var i = 0; i < 6; i++)
        {
            fromN1.Add(await Get(url, PodOnN1));
            fromN2.Add(await Get(url, PodOnN2));
        }
        Assert.Equal(["pod-a"], fromN1);
        Assert.Equal(["pod-b", "pod-c"], fromN2.Order());
    }

    [Theory]
    [InlineData("http")]
    [InlineData(null)]
    public async Task External_traffic_policy_Local_sends_a_pods_traffic_to_the_cluster_wide_endpoints(string? appProtocol)
    {
        // the endpoints are on n2 only; this node is n1: from outside, its nodePort has no endpoint
        var port = ServiceProxyTests.FreePort(ClusterIp);
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [Service(appProtocol, port, nodePort: nodePort, externalPolicy: "Local")],
            Slices(("pod-b", "n2")), PodRanges: PodRanges));
        var listener = new IPEndPoint(NodeAddress, nodePort);

        Assert.Equal("pod-b", await Get($"http://{NodeAddress}:{nodePort}/", PodOnN2));
        Assert.Equal("pod-b", await Get($"http://{NodeAddress}:{nodePort}/", PodOnN1));
        if (appProtocol is null)
        {
            Assert.Single(_proxy.TcpRouteFor(listener, IPAddress.Loopback)!.Backends); // the machine itself
            Assert.Empty(_proxy.TcpRouteFor(listener, IPAddress.Parse("192.0.2.7"))!.Backends); // from outside
        }
    }

    [Theory]
    [InlineData("http")]
    [InlineData(null)]
    public async Task Internal_traffic_policy_Local_sends_each_client_to_the_endpoints_on_its_own_node(string? appProtocol)
    {
        var port = ServiceProxyTests.FreePort(ClusterIp);
        _proxy.Apply(new ServicesChanged(1, [Service(appProtocol, port, internalPolicy: "Local")],
            Slices(("pod-a", "n1"), ("pod-b", "n2"), ("pod-c", "n2")), PodRanges: PodRanges));
        var url = $"http://{ClusterIp}:{port}/";

        var fromN1 = new HashSet<string>();
        var fromN2 = new HashSet<string>();
        var fromTheMachine = new HashSet<string>();
        for (var i = 0; i < 6; i++)
        {
            fromN1.Add(await Get(url, PodOnN1));
            fromN2.Add(await Get(url, PodOnN2));
            fromTheMachine.Add(await Get(url, IPAddress.Loopback)); // in no pod range: this node's (n1's) own client
        }
        Assert.Equal(["pod-a"], fromN1);
        Assert.Equal(["pod-b", "pod-c"], fromN2.Order());
        Assert.Equal(["pod-a"], fromTheMachine);
    }

    [Theory]
    [InlineData("http")]
    [InlineData(null)]
    public async Task Internal_traffic_policy_Cluster_sends_every_client_to_every_endpoint(string? appProtocol)
    {
        var port = ServiceProxyTests.FreePort(ClusterIp);
        _proxy.Apply(new ServicesChanged(1, [Service(appProtocol, port, internalPolicy: "Cluster")],
            Slices(("pod-a", "n1"), ("pod-b", "n2")), PodRanges: PodRanges));

        var fromN1 = new HashSet<string>();
        for (var i = 0; i < 6; i++) fromN1.Add(await Get($"http://{ClusterIp}:{port}/", PodOnN1));
        Assert.Equal(["pod-a", "pod-b"], fromN1.Order());
    }

    [Fact]
    public async Task Internal_traffic_policy_Local_without_an_endpoint_on_the_clients_node_resets_an_L4_connection()
    {
        var port = ServiceProxyTests.FreePort(ClusterIp);
        _proxy.Apply(new ServicesChanged(1, [Service(null, port, internalPolicy: "Local")], Slices(("pod-b", "n2")), PodRanges: PodRanges));
        var url = $"http://{ClusterIp}:{port}/";
        Assert.Equal("pod-b", await Get(url, PodOnN2)); // the listener is open

        // a bare socket: HttpClient reports a reset that comes right after the connect as "not connected" (reading the
        // socket's remote address) instead of the reset it is; on loopback the reset can end the connect itself
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Bind(new IPEndPoint(PodOnN1, 0));
        try { await client.ConnectAsync(ClusterIp, port); }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { return; }
        await TcpProxyTests.AssertReset(client);
    }

    [Fact]
    public async Task Internal_traffic_policy_Local_without_an_endpoint_on_the_clients_node_answers_503_on_an_http_port()
    {
        var port = ServiceProxyTests.FreePort(ClusterIp);
        _proxy.Apply(new ServicesChanged(1, [Service("http", port, internalPolicy: "Local")], Slices(("pod-b", "n2")), PodRanges: PodRanges));
        var url = $"http://{ClusterIp}:{port}/";
        Assert.Equal("pod-b", await Get(url, PodOnN2));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Send(url, PodOnN1)).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Send(url, IPAddress.Loopback)).StatusCode);
    }

    [Theory]
    [InlineData("http")]
    [InlineData(null)]
    public async Task A_client_ip_affinity_holds_while_the_client_keeps_coming_and_ends_after_the_timeout(string? appProtocol)
    {
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        _proxy.Apply(new ServicesChanged(1, [Service(appProtocol, 80, affinity: "ClientIP", timeoutSeconds: 60, nodePort: nodePort)],
            Slices(("pod-a", "n1"), ("pod-b", "n1"), ("pod-c", "n1"))));
        var url = $"http://{NodeAddress}:{nodePort}/";

        var held = await Get(url, IPAddress.Loopback);
        for (var i = 0; i < 5; i++) Assert.Equal(held, await Get(url, IPAddress.Loopback));
        // each connection restarts the timer: 40 s apart, 80 s after the first, still held
        _clock.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal(held, await Get(url, IPAddress.Loopback));
        _clock.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal(held, await Get(url, IPAddress.Loopback));

        // silent for longer than the timeout: the next connection is balanced anew (round robin: another pod), and held there
        _clock.Advance(TimeSpan.FromSeconds(61));
        var next = await Get(url, IPAddress.Loopback);
        Assert.NotEqual(held, next);
        for (var i = 0; i < 5; i++) Assert.Equal(next, await Get(url, IPAddress.Loopback));
    }

    [Fact]
    public async Task A_service_that_drops_client_ip_affinity_drops_its_table()
    {
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        var affinity = _node.Services.GetRequiredService<ClientIpAffinity>();
        _proxy.Apply(new ServicesChanged(1, [Service(null, 80, affinity: "ClientIP", nodePort: nodePort)], Slices(("pod-a", "n1"), ("pod-b", "n1"))));
        await Get($"http://{NodeAddress}:{nodePort}/", IPAddress.Loopback);
        Assert.Equal(1, affinity.Count("default/web:80"));

        _proxy.Apply(new ServicesChanged(2, [Service(null, 80, nodePort: nodePort)], Slices(("pod-a", "n1"), ("pod-b", "n1"))));
        Assert.Equal(0, affinity.Count("default/web:80"));
    }

    /// <summary>A GET on a new connection from <paramref name="source"/>, once the listener is open.</summary>
    private static async Task<string> Get(string url, IPAddress source)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                var response = await Send(url, source);
                response.EnsureSuccessStatusCode();
                return await response.Content.ReadAsStringAsync();
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { await Task.Delay(50); }
        }
    }

    private static async Task<HttpResponseMessage> Send(string url, IPAddress source)
    {
        using var client = SourceBoundHttp.Client(source);
        var response = await client.GetAsync(url);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    /// <summary>A clock the test moves: the affinity timeout without waiting.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = TimeSpan.TicksPerDay;
        public override long GetTimestamp() => Interlocked.Read(ref _ticks);
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
