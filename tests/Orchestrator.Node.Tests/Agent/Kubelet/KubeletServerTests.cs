using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Agent.Kubelet;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Tests.Agent.Kubelet.Spdy;
using Orchestrator.Node.Tests.Runtime;

namespace Orchestrator.Node.Tests.Agent.Kubelet;

/// <summary>The node's kubelet endpoint on a real Kestrel socket over a <see cref="FakeRuntime"/>.</summary>
public sealed class KubeletServerTests : IAsyncLifetime
{
    private const string Token = "s3cret";
    private readonly FakeRuntime _runtime = new FakeRuntime().WithImage("web:1");
    private WebApplication _app = null!;
    private int _port;
    private static readonly HttpClient Http = new();

    public async Task InitializeAsync()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(new KubeletEndpointOptions(new IPEndPoint(IPAddress.Loopback, _port), Token));
        builder.Services.AddSingleton<IContainerRuntime>(_runtime);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _port));
        _app = builder.Build();
        _app.UseKubeletApi();
        await _app.StartAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private FakeContainer Container(string pod, bool running = true, int restarts = 0)
    {
        var c = _runtime.Seed("uid-" + pod, pod, "main", running, restarts);
        return c;
    }

    private Task<HttpResponseMessage> Get(string path, string? token = Token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{_port}{path}");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return Http.SendAsync(request);
    }

    [Fact]
    public async Task Requests_without_the_shared_token_are_refused()
    {
        Container("web");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get("/containerLogs/default/web/main", token: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get("/containerLogs/default/web/main", token: "wrong")).StatusCode);
    }

    [Fact]
    public async Task Metrics_are_served_to_the_token_holder_only()
    {
        using var metrics = await Get("/metrics");
        using var anonymous = await Get("/metrics", token: null);

        Diagnostics.NodeMetrics.ProxyRequest("kubelet-test/web:80", "http", error: false, TimeSpan.FromMilliseconds(1), "172.28.0.9:80");
        using var again = await Get("/metrics");
        Assert.Contains("orchestrator_proxy_endpoint_requests_total{service=\"kubelet-test/web:80\",kind=\"http\",endpoint=\"172.28.0.9:80\"} 1",
            await again.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", metrics.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Logs_of_the_current_and_the_previous_instance_with_tail()
    {
        var previous = Container("web", running: false);
        var current = Container("web", running: true, restarts: 1);
        _runtime.Logs[previous.Id] = "crashed once\n";
        _runtime.Logs[current.Id] = "a\nb\nc\n";

        Assert.Equal("a\nb\nc\n", await (await Get("/containerLogs/default/web/main")).Content.ReadAsStringAsync());
        Assert.Equal("c\n", await (await Get("/containerLogs/default/web/main?tailLines=1")).Content.ReadAsStringAsync());
        Assert.Equal("crashed once\n", await (await Get("/containerLogs/default/web/main?previous=true")).Content.ReadAsStringAsync());
        var missing = await Get("/containerLogs/default/web/other");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("container \"other\" in pod \"web\" is not available", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Exec_speaks_the_v5_channel_protocol_with_the_exit_code_in_the_final_status()
    {
        Container("web");
        var session = new ScriptedSession("hello\n", exitCode: 3);
        ExecStart? started = null;
        _runtime.ExecSessions = start => { started = start; return session; };

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + Token);
        socket.Options.AddSubProtocol("v5.channel.k8s.io");
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_port}/exec/default/web/main?command=sh&command=-c&command=exit%203&stdin=true&stdout=true"), default);
        Assert.Equal("v5.channel.k8s.io", socket.SubProtocol);
        await socket.SendAsync(new byte[] { 0, (byte)'x' }, WebSocketMessageType.Binary, true, default);
        await socket.SendAsync(new byte[] { 255, 0 }, WebSocketMessageType.Binary, true, default); // close stdin

        var messages = new List<byte[]>();
        var buffer = new byte[4096];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, default);
            if (received.MessageType == WebSocketMessageType.Close) break;
            messages.Add(buffer[..received.Count]);
        }
        Assert.Equal(["sh", "-c", "exit 3"], started!.Command);
        Assert.True(started.Stdin);
        Assert.Equal(1, messages[0][0]);
        Assert.Equal("hello\n", Encoding.UTF8.GetString(messages[0], 1, messages[0].Length - 1));
        var status = messages.Single(m => m[0] == 3);
        var json = Encoding.UTF8.GetString(status, 1, status.Length - 1);
        Assert.Contains("\"status\":\"Failure\"", json);
        Assert.Contains("\"reason\":\"NonZeroExitCode\"", json);
        Assert.Contains("{\"reason\":\"ExitCode\",\"message\":\"3\"}", json);
        Assert.Equal("x", session.Stdin.ToString());
        Assert.True(session.StdinClosed);
    }

    [Fact]
    public async Task Port_forward_tunnels_spdy_in_a_websocket_with_kubectls_subprotocol_to_the_pods_port()
    {
        await using var pod = new EchoServer("hi ");
        Container("web").Ip = "127.0.0.1";

        var (socket, response) = await RawWebSocket.ConnectAsync(_port, "/portForward/default/web", PortForwardSession.SpdyTunnelProtocol, Token);

        Assert.NotNull(socket);
        Assert.Contains("Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io", response, StringComparison.OrdinalIgnoreCase);
        using (socket)
        {
            await using var stream = WebSocketStream.Create(socket!, WebSocketMessageType.Binary, ownsWebSocket: false);
            using var client = new SpdyTestClient(stream);
            await client.OpenPairAsync(1, pod.Port, "0");
            await client.SendDataAsync(3, "there", fin: true);
            Assert.Equal("hi THERE", await client.ReadStreamAsync(3));
            Assert.Equal("", await client.ReadStreamAsync(1));
        }
    }

    [Fact]
    public async Task Port_forward_refuses_requests_without_the_upgrade_or_for_a_pod_without_a_running_container()
    {
        Container("stopped", running: false);

        var plain = await Get("/portForward/default/web");
        var (none, response) = await RawWebSocket.ConnectAsync(_port, "/portForward/default/stopped", PortForwardSession.SpdyTunnelProtocol, Token);

        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        Assert.Null(none);
        Assert.StartsWith("HTTP/1.1 404", response);
        Assert.Contains("pod \"stopped\" has no running container on this node", response);
    }

    [Fact]
    public async Task Port_forward_over_the_v4_channel_protocol_prefixes_each_channel_with_its_port()
    {
        await using var pod = new EchoServer("hi ");
        Container("web").Ip = "127.0.0.1";
        int closed;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closed = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + Token);
        socket.Options.AddSubProtocol("v4.channel.k8s.io");
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_port}/portForward/default/web?port={pod.Port},{closed}"), default);
        Assert.Equal("v4.channel.k8s.io", socket.SubProtocol);

        var received = new Dictionary<byte, List<byte[]>>();
        async Task ReadUntil(Func<bool> done)
        {
            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (!done())
            {
                var result = await socket.ReceiveAsync(buffer, timeout.Token);
                Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
                var message = buffer[..result.Count];
                if (!received.TryGetValue(message[0], out var list)) received[message[0]] = list = [];
                list.Add(message[1..]);
            }
        }
        string Text(byte channel) => string.Concat(received.GetValueOrDefault(channel, []).Skip(1).Select(m => Encoding.UTF8.GetString(m)));

        await ReadUntil(() => received.Count == 4 && Text(0) == "hi " && Text(3).Length > 0);
        Assert.Equal(BitConverter.GetBytes((ushort)pod.Port), received[0][0]);
        Assert.Equal(BitConverter.GetBytes((ushort)pod.Port), received[1][0]);
        Assert.Equal(BitConverter.GetBytes((ushort)closed), received[2][0]);
        Assert.Contains($"error forwarding port {closed} to pod default/web", Text(3));

        await socket.SendAsync(new byte[] { 0, (byte)'a', (byte)'b' }, WebSocketMessageType.Binary, true, default);
        await ReadUntil(() => Text(0) == "hi AB");
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, default);
    }

    [Fact]
    public async Task Port_forward_over_the_v4_channel_protocol_needs_ports()
    {
        Container("web");
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + Token);
        socket.Options.AddSubProtocol("v4.channel.k8s.io");
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_port}/portForward/default/web"), default));
        Assert.Equal(HttpStatusCode.BadRequest, socket.HttpStatusCode);
    }

    /// <summary>Prints its output once stdin is closed, then ends with the exit code.</summary>
    private sealed class ScriptedSession(string output, int exitCode) : IExecSession
    {
        private readonly TaskCompletionSource _closed = new();
        private bool _sent;
        public StringBuilder Stdin { get; } = new();
        public bool StdinClosed => _closed.Task.IsCompleted;

        public async Task<ExecOutput> ReadAsync(byte[] buffer, CancellationToken ct)
        {
            await _closed.Task.WaitAsync(ct);
            if (_sent) return new ExecOutput(0, 1, true);
            _sent = true;
            var bytes = Encoding.UTF8.GetBytes(output);
            bytes.CopyTo(buffer, 0);
            return new ExecOutput(bytes.Length, 1, false);
        }

        public Task WriteStdinAsync(byte[] buffer, int offset, int count, CancellationToken ct)
        {
            Stdin.Append(Encoding.UTF8.GetString(buffer, offset, count));
            return Task.CompletedTask;
        }

        public void CloseStdin() => _closed.TrySetResult();
        public Task ResizeAsync(int width, int height, CancellationToken ct) => Task.CompletedTask;
        public Task<int> ExitCodeAsync(CancellationToken ct) => Task.FromResult(exitCode);
        public void Dispose() { }
    }
}
