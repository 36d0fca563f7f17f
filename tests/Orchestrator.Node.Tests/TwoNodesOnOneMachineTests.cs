using Orchestrator.Node.Tests.Services;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Configuration;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Host;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests;

/// <summary>
/// Two whole nodes (NodeHost, as two node processes run it) on one machine with their own pod ranges, against a
/// stand-in master: each publishes its range, runs cluster DNS on its own address of the shared bridge, both serve
/// the same ClusterIP:port, and when one stops the other keeps serving it. Needs root and Docker (the bridge orch0),
/// like the other NodeHost tests. Test-only addresses: 172.28.61.0/24, 172.28.62.0/24, ClusterIP 172.28.250.77.
/// </summary>
public sealed class TwoNodesOnOneMachineTests : IAsyncLifetime
{
    private static readonly IPAddress ClusterIp = IPAddress.Parse("172.28.250.77");
    private readonly Channel<(object Message, IActorRef Sender)> _received = Channel.CreateUnbounded<(object, IActorRef)>();
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..6];
    private readonly IpCommand _ip = new(NullLogger.Instance);
    private ActorSystem _master = null!;
    private WebApplication _backend = null!;
    private int _backendPort;
    private int _masterPort;

    public async Task InitializeAsync()
    {
        _masterPort = TestNetwork.FreePort();
        _master = TestCluster.StartMaster(_masterPort);
        _master.ActorOf(Props.Create(() => new NodeHostTests.RecordingGateway(_received.Writer)), NodeProtocolNames.GatewayActorName);

        _backendPort = TestNetwork.FreePort();
        var backend = WebApplication.CreateBuilder();
        backend.Logging.ClearProviders();
        backend.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _backendPort));
        _backend = backend.Build();
        _backend.Run(ctx => ctx.Response.WriteAsync("backend"));
        await _backend.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        await _master.Terminate();
    }

    private WebApplication Node(string name, string address, string podCidr) => NodeHost.Build(NodeOptions.Parse(
    [
        "--name", $"{name}-{_suffix}", "--address", address, "--master", $"127.0.0.1:{_masterPort}", "--pod-cidr", podCidr,
        "--healthz-port", TestNetwork.FreePort().ToString(CultureInfo.InvariantCulture), "--cluster-cert", TestCluster.CertificatePath,
    ]));

    [Fact]
    public async Task Each_node_has_its_range_and_dns_address_and_both_serve_the_cluster_ip_until_one_stops()
    {
        var nodeA = Node("two-a", "127.0.0.61", "172.28.61.0/24");
        var nodeB = Node("two-b", "127.0.0.62", "172.28.62.0/24");
        var nodeARunning = true;
        await nodeA.StartAsync();
        await nodeB.StartAsync();
        try
        {
            var registered = new Dictionary<string, (RegisterNode Register, IActorRef Agent)>();
            while (registered.Count < 2)
            {
                var (register, agent) = await Next<RegisterNode>(_ => true);
                registered[register.Node.Metadata.Name] = (register, agent);
            }
            Assert.Equal("172.28.61.0/24", registered[$"two-a-{_suffix}"].Register.Node.Spec.PodCIDR);
            Assert.Equal("172.28.62.0/24", registered[$"two-b-{_suffix}"].Register.Node.Spec.PodCIDR);

            // each node's cluster DNS on the first usable address of its range, added to the bridge
            await TestNetwork.Eventually(() => Assert.True(Listening("172.28.61.1", 53) && Listening("172.28.62.1", 53)));

            var service = new V1Service
            {
                Metadata = new V1ObjectMeta { Name = "shared", NamespaceProperty = "default" },
                Spec = new V1ServiceSpec { ClusterIP = ClusterIp.ToString(), Ports = [new V1ServicePort { Port = 8080, Protocol = "TCP" }] },
            };
            var endpoints = new V1Endpoints
            {
                Metadata = new V1ObjectMeta { Name = "shared", NamespaceProperty = "default" },
                Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = "127.0.0.1" }], Ports = [new Corev1EndpointPort { Port = _backendPort }] }],
            };
            foreach (var (_, agent) in registered.Values) agent.Tell(new ServicesChanged(1, [service], TestSlices.Of(endpoints)));

            var clusterIp = new IPEndPoint(ClusterIp, 8080);
            await TestNetwork.Eventually(() => Assert.Equal(2, TestNetwork.ListeningSockets(clusterIp)));
            Assert.Equal("backend", await TestNetwork.GetWithRetry($"http://{clusterIp}/", attempts: 50));

            await nodeA.StopAsync();
            await nodeA.DisposeAsync();
            nodeARunning = false;

            // A's DNS address goes with it; the ClusterIP stays (B still serves it) and answers
            Assert.False(_ip.Exists("orch0", IPAddress.Parse("172.28.61.1")));
            Assert.True(_ip.Exists("orch0", ClusterIp));
            Assert.Equal(1, TestNetwork.ListeningSockets(clusterIp));
            for (var i = 0; i < 5; i++) Assert.Equal("backend", await TestNetwork.GetWithRetry($"http://{clusterIp}/", attempts: 0));

            // the Service is gone: its address goes
            registered[$"two-b-{_suffix}"].Agent.Tell(new ServicesChanged(2, [], []));
            await TestNetwork.Eventually(() => Assert.False(_ip.Exists("orch0", ClusterIp)));
        }
        finally
        {
            await nodeB.StopAsync();
            await nodeB.DisposeAsync();
            if (nodeARunning) await nodeA.DisposeAsync();
            if (_ip.Exists("orch0", ClusterIp)) _ip.Delete("orch0", ClusterIp);
        }
        Assert.False(_ip.Exists("orch0", IPAddress.Parse("172.28.62.1")));
    }

    [Fact]
    public async Task Internal_traffic_policy_Local_holds_whichever_node_of_the_machine_accepts_the_connection()
    {
        // the ClusterIP socket is shared: either node may accept a connection of the other's pod, and sends it to the
        // endpoints on the client's node all the same (by the pod ranges the master sends)
        var nodeA = Node("two-a", "127.0.0.61", "172.28.61.0/24");
        var nodeB = Node("two-b", "127.0.0.62", "172.28.62.0/24");
        await using var secondBackend = await Backend("backend-b");
        await nodeA.StartAsync();
        await nodeB.StartAsync();
        try
        {
            var agents = new List<IActorRef>();
            while (agents.Count < 2) agents.Add((await Next<RegisterNode>(_ => true)).Sender);

            var service = new V1Service
            {
                Metadata = new V1ObjectMeta { Name = "local", NamespaceProperty = "default" },
                Spec = new V1ServiceSpec
                {
                    ClusterIP = ClusterIp.ToString(), InternalTrafficPolicy = "Local", Ports = [new V1ServicePort { Port = 8080, Protocol = "TCP" }],
                },
            };
            V1EndpointSlice Slice(string node, int port) => new()
            {
                Metadata = new V1ObjectMeta
                {
                    Name = $"local-{node}", NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "local" },
                },
                AddressType = "IPv4",
                Endpoints = [new V1Endpoint { Addresses = ["127.0.0.1"], NodeName = $"{node}-{_suffix}", Conditions = new V1EndpointConditions { Ready = true } }],
                Ports = [new Discoveryv1EndpointPort { Name = "", Port = port, Protocol = "TCP" }],
            };
            // the "pods" are this process's sockets bound to loopback addresses that the ranges the stand-in master sends
            // place on A and on B: a connection the host makes from a bridge address is masqueraded by Docker's
            // POSTROUTING rule (a real pod's arrives on the bridge, its address kept)
            var changed = new ServicesChanged(1, [service], [Slice("two-a", _backendPort), Slice("two-b", secondBackend.Port)],
                PodRanges: [new NodePodRange($"two-a-{_suffix}", "127.0.61.0/24"), new NodePodRange($"two-b-{_suffix}", "127.0.62.0/24")]);
            foreach (var agent in agents) agent.Tell(changed);

            var clusterIp = new IPEndPoint(ClusterIp, 8080);
            await TestNetwork.Eventually(() => Assert.Equal(2, TestNetwork.ListeningSockets(clusterIp)));
            // 20 connections each: SO_REUSEPORT hands some of every client's to each node (a node that went by its own
            // endpoints would send a pod of the other node to the wrong one)
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal("backend", await GetFrom(IPAddress.Parse("127.0.61.9"), $"http://{clusterIp}/")); // a "pod" of A
                Assert.Equal("backend-b", await GetFrom(IPAddress.Parse("127.0.62.9"), $"http://{clusterIp}/")); // of B
            }
        }
        finally
        {
            await nodeB.StopAsync();
            await nodeA.StopAsync();
            await nodeB.DisposeAsync();
            await nodeA.DisposeAsync();
            if (_ip.Exists("orch0", ClusterIp)) _ip.Delete("orch0", ClusterIp);
        }
    }

    /// <summary>A GET on a new connection from <paramref name="source"/>, retried while the listener opens.</summary>
    private static async Task<string> GetFrom(IPAddress source, string url)
    {
        using var client = SourceBoundHttp.Client(source);
        for (var attempt = 0; ; attempt++)
        {
            try { return await client.GetStringAsync(url); }
            catch (HttpRequestException) when (attempt < 50) { await Task.Delay(100); }
        }
    }

    private sealed record RunningBackend(WebApplication App, int Port) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    private static async Task<RunningBackend> Backend(string answer)
    {
        var port = TestNetwork.FreePort();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(ctx => ctx.Response.WriteAsync(answer));
        await app.StartAsync();
        return new RunningBackend(app, port);
    }

    private static bool Listening(string address, int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Parse(address), port);
            return true;
        }
        catch (SocketException) { return false; }
    }

    private async Task<(T Message, IActorRef Sender)> Next<T>(Func<T, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var (message, sender) = await _received.Reader.ReadAsync(timeout.Token);
            if (message is T t && match(t)) return (t, sender);
        }
    }
}
