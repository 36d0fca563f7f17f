using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Proxy;
using Xunit;

namespace Orchestrator.Node.Tests.Proxy;

/// <summary>The node-local load balancer to the masters' API against plain TCP servers standing in for masters: each
/// answers every line with its name, and "reset" with a TCP reset. Health checks are a fake the test sets.</summary>
public sealed class ApiServerLoadBalancerTests : IAsyncLifetime
{
    private readonly List<FakeMaster> _masters = [];
    private readonly ConcurrentDictionary<int, bool> _health = new();
    private ApiServerLoadBalancer? _balancer;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_balancer is not null) await _balancer.DisposeAsync();
        foreach (var master in _masters) master.Dispose();
    }

    private FakeMaster Master(string name)
    {
        var master = new FakeMaster(name);
        _masters.Add(master);
        return master;
    }

    /// <summary>A port nothing listens on (bound and released).</summary>
    private static int DeadPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private ApiServerLoadBalancer Balancer(params int[] ports)
    {
        // health checks run only when the test says (the loop's first round finds every server healthy)
        _balancer = new ApiServerLoadBalancer(new IPEndPoint(IPAddress.Loopback, 0), ports.Select(p => new DnsEndPoint("127.0.0.1", p)),
            NullLogger.Instance, (server, _) => Task.FromResult(_health.GetValueOrDefault(server.Port, true)), TimeSpan.FromHours(1));
        _balancer.Start();
        return _balancer;
    }

    private async Task<TcpClient> ConnectAsync()
    {
        var client = new TcpClient();
        await client.ConnectAsync(_balancer!.LocalEndPoint);
        return client;
    }

    private static async Task<string?> AskAsync(TcpClient client, string line)
    {
        // null: the connection is closed (or reset)
        try
        {
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\n"));
            var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            return await reader.ReadLineAsync(timeout.Token);
        }
        catch (IOException) { return null; }
    }

    [Fact]
    public async Task Bytes_pass_both_ways_to_the_first_server_and_new_connections_stay_with_it()
    {
        var a = Master("a");
        var b = Master("b");
        Balancer(a.Port, b.Port);

        using var first = await ConnectAsync();
        Assert.Equal("a: hello", await AskAsync(first, "hello"));
        using var second = await ConnectAsync();
        Assert.Equal("a: again", await AskAsync(second, "again"));
    }

    [Fact]
    public async Task A_refused_connect_fails_over_to_the_next_server_which_takes_the_next_connections()
    {
        var dead = DeadPort();
        var b = Master("b");
        var balancer = Balancer(dead, b.Port);

        using var client = await ConnectAsync();
        Assert.Equal("b: hello", await AskAsync(client, "hello"));
        Assert.Equal([(dead, false), (b.Port, true)], balancer.Servers.Select(s => (s.Server.Port, s.Healthy)));
        Assert.Equal([b.Port], balancer.Candidates().Select(c => c.Port));
    }

    [Fact]
    public async Task A_server_failing_its_health_checks_has_its_connections_closed_and_gets_no_new_ones()
    {
        var a = Master("a");
        var b = Master("b");
        var balancer = Balancer(a.Port, b.Port);
        using var open = await ConnectAsync();
        Assert.Equal("a: watch", await AskAsync(open, "watch"));

        _health[a.Port] = false;
        await balancer.CheckHealthAsync(CancellationToken.None);
        Assert.Equal("a: still", await AskAsync(open, "still")); // one failed check is not enough
        await balancer.CheckHealthAsync(CancellationToken.None);

        Assert.Null(await AskAsync(open, "gone")); // closed: the client reconnects
        using var next = await ConnectAsync();
        Assert.Equal("b: hello", await AskAsync(next, "hello"));

        _health[a.Port] = true;
        await balancer.CheckHealthAsync(CancellationToken.None);
        Assert.Equal([a.Port, b.Port], balancer.Servers.Where(s => s.Healthy).Select(s => s.Server.Port));
        Assert.Equal(b.Port, balancer.Candidates()[0].Port); // the current server keeps new connections while healthy
    }

    [Fact]
    public async Task With_no_healthy_server_every_server_is_tried()
    {
        var a = Master("a");
        var balancer = Balancer(a.Port);
        _health[a.Port] = false;
        await balancer.CheckHealthAsync(CancellationToken.None);
        await balancer.CheckHealthAsync(CancellationToken.None);
        Assert.False(balancer.Servers.Single().Healthy);

        using var client = await ConnectAsync();
        Assert.Equal("a: anyway", await AskAsync(client, "anyway"));
    }

    [Fact]
    public async Task A_peer_reset_mid_stream_ends_that_connection_and_the_balancer_serves_on()
    {
        var a = Master("a");
        Balancer(a.Port);
        using var victim = await ConnectAsync();
        Assert.Equal("a: before", await AskAsync(victim, "before"));

        Assert.Null(await AskAsync(victim, "reset"));

        using var next = await ConnectAsync();
        Assert.Equal("a: after", await AskAsync(next, "after"));
    }

    [Fact]
    public async Task A_client_reset_mid_stream_does_not_disturb_other_connections()
    {
        var a = Master("a");
        Balancer(a.Port);
        using var other = await ConnectAsync();
        var rude = await ConnectAsync();
        Assert.Equal("a: hi", await AskAsync(rude, "hi"));
        rude.Client.LingerState = new LingerOption(true, 0);
        rude.Close(); // RST

        Assert.Equal("a: fine", await AskAsync(other, "fine"));
    }

    [Fact]
    public async Task Learned_servers_come_first_and_known_ones_keep_their_health()
    {
        var dead = DeadPort();
        var b = Master("b");
        var balancer = Balancer(dead);
        using (var refused = await ConnectAsync()) Assert.Null(await AskAsync(refused, "x"));
        Assert.False(balancer.Servers.Single().Healthy);

        balancer.SetLearned([new DnsEndPoint("127.0.0.1", b.Port), new DnsEndPoint("127.0.0.1", dead)]);

        Assert.Equal([(b.Port, true), (dead, false)], balancer.Servers.Select(s => (s.Server.Port, s.Healthy)));
        using var client = await ConnectAsync();
        Assert.Equal("b: learned", await AskAsync(client, "learned"));
    }

    [Fact]
    public void The_masters_are_read_from_the_kubernetes_services_ready_slice_endpoints()
    {
        V1EndpointSlice Slice(string name, string service, int port, params string[] addresses) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = service } },
            AddressType = "IPv4",
            Ports = [new Discoveryv1EndpointPort { Name = "https", Port = port }],
            Endpoints = addresses.Select(a => new V1Endpoint { Addresses = [a], Conditions = new V1EndpointConditions { Ready = a != "10.0.0.9" } }).ToList(),
        };

        var servers = ApiServerLoadBalancerHosting.ApiServersIn([
            Slice("kubernetes-7444", "kubernetes", 7444, "10.0.0.2"),
            Slice("kubernetes", "kubernetes", 7443, "10.0.0.1", "10.0.0.3", "10.0.0.9"),
            Slice("web-abc", "web", 80, "10.0.0.5"),
        ]);

        Assert.Equal(["10.0.0.1:7443", "10.0.0.3:7443", "10.0.0.2:7444"], servers.Select(s => $"{s.Host}:{s.Port}"));
    }

    [Theory]
    [InlineData("10.0.0.1:6443", "10.0.0.1", 6443)]
    [InlineData("[::1]:6443", "::1", 6443)]
    [InlineData("master.example:443", "master.example", 443)]
    public void Server_addresses_are_host_and_port(string value, string host, int port) =>
        Assert.Equal((host, port), (ApiServerLoadBalancer.ParseEndPoint(value, "api-servers").Host, ApiServerLoadBalancer.ParseEndPoint(value, "api-servers").Port));

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("10.0.0.1:0")]
    [InlineData(":6443")]
    [InlineData("10.0.0.1:http")]
    public void Anything_else_is_refused_with_the_flags_name(string value) =>
        Assert.Contains("--api-servers", Assert.Throws<ArgumentException>(() => ApiServerLoadBalancer.ParseEndPoint(value, "api-servers")).Message);

    /// <summary>Answers each line with "NAME: line"; "reset" is answered with a TCP reset.</summary>
    private sealed class FakeMaster : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly string _name;

        public FakeMaster(string name)
        {
            _name = name;
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try { socket = await _listener.AcceptSocketAsync(_stop.Token); }
                catch (Exception) { return; }
                _ = ServeAsync(socket);
            }
        }

        private async Task ServeAsync(Socket socket)
        {
            try
            {
                await using var stream = new NetworkStream(socket, ownsSocket: false);
                using var reader = new StreamReader(stream, Encoding.ASCII);
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    if (line == "reset")
                    {
                        socket.LingerState = new LingerOption(true, 0);
                        break;
                    }
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"{_name}: {line}\n"), _stop.Token);
                }
            }
            catch (Exception) { }
            finally { socket.Dispose(); }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
