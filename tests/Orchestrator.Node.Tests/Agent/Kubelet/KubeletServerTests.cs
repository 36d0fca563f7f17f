using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Agent.Kubelet;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Tests.Agent.Kubelet.Spdy;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent.Kubelet;

/// <summary>The node's kubelet endpoint on a real Kestrel socket over a <see cref="FakeRuntime"/>: TLS with the serving
/// certificate a (test) master issued to node-a, the master's client certificate required.</summary>
public sealed class KubeletServerTests : IAsyncLifetime
{
    private static readonly KubeletCertificateAuthority Ca = new(KubeletCertificateAuthority.CreateCertificate());
    private readonly FakeRuntime _runtime = new FakeRuntime().WithImage("web:1");
    private readonly KubeletIdentity _identity = new("node-a", IPAddress.Loopback);
    private WebApplication _app = null!;
    private int _port;
    private HttpClient Http = null!;

    /// <summary>A client as the master is: its kubelet client certificate, and node-a's certificate expected.</summary>
    private static HttpClient Client(X509Certificate2? certificate) => new(new SocketsHttpHandler
    {
        SslOptions =
        {
            ClientCertificates = certificate is null ? null : [certificate],
            RemoteCertificateValidationCallback = (_, presented, _, _) =>
                KubeletTls.CheckServing(presented as X509Certificate2, Ca.Certificate, "node-a", "127.0.0.1") is null,
        },
    });

    private static void Secure(ClientWebSocket socket)
    {
        socket.Options.ClientCertificates = [Ca.ClientCertificate()];
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
    }

    public async Task InitializeAsync()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(new KubeletEndpointOptions(new IPEndPoint(IPAddress.Loopback, _port)));
        builder.Services.AddSingleton<IContainerRuntime>(_runtime);
        builder.WebHost.ConfigureKestrel(k => k.ListenKubelet(new IPEndPoint(IPAddress.Loopback, _port), _identity));
        _app = builder.Build();
        _app.UseKubeletApi();
        await _app.StartAsync();
        Register();
        Http = Client(Ca.ClientCertificate());
    }

    /// <summary>What the NodeAgent does with the master's NodeRegistered.</summary>
    private void Register() =>
        Assert.Null(_identity.Accept(Ca.IssueServing(_identity.SigningRequest, "node-a", IPAddress.Loopback), Ca.CertificatePem));

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await _app.DisposeAsync();
        _identity.Dispose();
    }

    private FakeContainer Container(string pod, bool running = true, int restarts = 0)
    {
        var c = _runtime.Seed("uid-" + pod, pod, "main", running, restarts);
        return c;
    }

    private Task<HttpResponseMessage> Get(string path) => Http.GetAsync($"https://127.0.0.1:{_port}{path}");

    [Fact]
    public async Task Clients_without_the_masters_kubelet_client_certificate_complete_no_handshake()
    {
        Container("web");
        var otherCa = new KubeletCertificateAuthority(KubeletCertificateAuthority.CreateCertificate());
        using var anonymous = Client(null);
        using var foreign = Client(otherCa.ClientCertificate());
        using var plain = new HttpClient();

        await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.GetAsync($"https://127.0.0.1:{_port}/containerLogs/default/web/main"));
        await Assert.ThrowsAsync<HttpRequestException>(() => foreign.GetAsync($"https://127.0.0.1:{_port}/containerLogs/default/web/main"));
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync($"http://127.0.0.1:{_port}/containerLogs/default/web/main"));
        Assert.Equal(HttpStatusCode.OK, (await Get("/containerLogs/default/web/main")).StatusCode);
    }

    [Fact]
    public async Task The_endpoint_presents_the_certificate_the_master_issued_and_none_before_registration()
    {
        using var fresh = new KubeletIdentity("node-a", IPAddress.Loopback);
        Assert.Null(fresh.ServingCertificate);
        Assert.NotNull(fresh.CheckClient(Ca.ClientCertificate())); // serves nobody before the master answered
        var issuedElsewhere = Ca.IssueServing(_identity.SigningRequest, "node-a", IPAddress.Loopback);
        Assert.NotNull(fresh.Accept(issuedElsewhere, Ca.CertificatePem)); // a certificate for another key is refused

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _port);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            ClientCertificates = [Ca.ClientCertificate()],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        using var presented = X509CertificateLoader.LoadCertificate(tls.RemoteCertificate!.GetRawCertData());
        Assert.Equal("CN=system:node:node-a, O=system:nodes", presented.Subject);
        Assert.Null(KubeletTls.CheckServing(presented, Ca.Certificate, "node-a", "127.0.0.1"));
    }

    [Fact]
    public async Task Metrics_are_served_to_the_master_only()
    {
        Diagnostics.NodeMetrics.ProxyRequest("kubelet-test/web:80", "http", error: false, TimeSpan.FromMilliseconds(1), "172.28.0.9:80");
        using var metrics = await Get("/metrics");
        Assert.Contains("orchestrator_proxy_endpoint_requests_total{service=\"kubelet-test/web:80\",kind=\"http\",endpoint=\"172.28.0.9:80\"} 1",
            await metrics.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", metrics.Content.Headers.ContentType!.MediaType);
        using var anonymous = Client(null);
        await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.GetAsync($"https://127.0.0.1:{_port}/metrics"));
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
    public async Task Logs_end_after_limitBytes_and_refuse_values_that_do_not_parse()
    {
        var current = Container("web", running: true);
        _runtime.Logs[current.Id] = "first line\nsecond line\n";

        Assert.Equal("first", await (await Get("/containerLogs/default/web/main?limitBytes=5")).Content.ReadAsStringAsync());
        Assert.Equal("first line\nsecond line\n", await (await Get("/containerLogs/default/web/main?limitBytes=1000")).Content.ReadAsStringAsync());
        Assert.Equal("first line\nsecond line\n",
            await (await Get("/containerLogs/default/web/main?sinceTime=2024-01-02T03%3A04%3A05Z")).Content.ReadAsStringAsync());
        foreach (var bad in new[] { "limitBytes=0", "tailLines=-1", "sinceSeconds=x", "sinceTime=yesterday" })
        {
            var refused = await Get($"/containerLogs/default/web/main?{bad}");
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("invalid value", await refused.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Logs_of_one_stream_alone_when_asked_for()
    {
        var current = Container("web", running: true);
        _runtime.Logs[current.Id] = "line\n";

        Assert.Equal(HttpStatusCode.OK, (await Get("/containerLogs/default/web/main")).StatusCode);
        Assert.Equal((true, true), (_runtime.LastLogRequest!.Stdout, _runtime.LastLogRequest.Stderr));
        Assert.Equal(HttpStatusCode.OK, (await Get("/containerLogs/default/web/main?stream=Stderr")).StatusCode);
        Assert.Equal((false, true), (_runtime.LastLogRequest!.Stdout, _runtime.LastLogRequest.Stderr));
        Assert.Equal(HttpStatusCode.OK, (await Get("/containerLogs/default/web/main?stream=Stdout&limitBytes=2")).StatusCode);
        Assert.Equal((true, false), (_runtime.LastLogRequest!.Stdout, _runtime.LastLogRequest.Stderr));
        Assert.Equal(HttpStatusCode.OK, (await Get("/containerLogs/default/web/main?stream=All&tailLines=1")).StatusCode);
        Assert.Equal((true, true), (_runtime.LastLogRequest!.Stdout, _runtime.LastLogRequest.Stderr));

        var unknown = await Get("/containerLogs/default/web/main?stream=stdout");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("stream: invalid value stdout", await unknown.Content.ReadAsStringAsync());
        var withTail = await Get("/containerLogs/default/web/main?stream=Stderr&tailLines=1");
        Assert.Equal(HttpStatusCode.BadRequest, withTail.StatusCode);
        Assert.Equal("`tailLines` and specific `stream` are mutually exclusive for now", await withTail.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Exec_speaks_the_v5_channel_protocol_with_the_exit_code_in_the_final_status()
    {
        Container("web");
        var session = new ScriptedSession("hello\n", exitCode: 3);
        ExecStart? started = null;
        _runtime.ExecSessions = start => { started = start; return session; };

        using var socket = new ClientWebSocket();
        Secure(socket);
        socket.Options.AddSubProtocol("v5.channel.k8s.io");
        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{_port}/exec/default/web/main?command=sh&command=-c&command=exit%203&stdin=true&stdout=true"), default);
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
    public async Task Attach_relays_the_main_process_streams_and_ends_with_success_whatever_its_exit_code()
    {
        var container = Container("web");
        var session = new ScriptedSession("prompt> got x\n", exitCode: 1);
        (string Id, bool Stdin)? attached = null;
        _runtime.AttachSessions = (id, stdin) => { attached = (id, stdin); return session; };

        using var socket = new ClientWebSocket();
        Secure(socket);
        socket.Options.AddSubProtocol("v5.channel.k8s.io");
        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{_port}/attach/default/web/main?stdin=true&stdout=true&tty=true"), default);
        await socket.SendAsync(new byte[] { 4 }.Concat(Encoding.UTF8.GetBytes("""{"Width":120,"Height":40}""")).ToArray(), WebSocketMessageType.Binary, true, default);
        await socket.SendAsync(new byte[] { 0, (byte)'x' }, WebSocketMessageType.Binary, true, default);
        await socket.SendAsync(new byte[] { 255, 0 }, WebSocketMessageType.Binary, true, default);

        var messages = await ReceiveAllAsync(socket);
        Assert.Equal((container.Id, true), attached);
        Assert.Equal("prompt> got x\n", Encoding.UTF8.GetString(messages[0], 1, messages[0].Length - 1));
        Assert.Equal("""{"metadata":{},"status":"Success"}""", Encoding.UTF8.GetString(messages.Single(m => m[0] == 3).AsSpan(1)));
        Assert.Equal("x", session.Stdin.ToString());
        Assert.Equal((120, 40), session.Size);
    }

    [Fact]
    public async Task Attach_ends_when_the_client_leaves_while_the_process_runs_on()
    {
        Container("web");
        var session = new ScriptedSession("never", exitCode: 0);
        _runtime.AttachSessions = (_, _) => session;

        using (var socket = new ClientWebSocket())
        {
            Secure(socket);
            socket.Options.AddSubProtocol("v5.channel.k8s.io");
            await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{_port}/attach/default/web/main?stdout=true"), default);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, default);
        }
        await session.Disposed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(session.StdinClosed);
    }

    [Fact]
    public async Task Attach_to_a_container_that_does_not_run_fails_on_the_error_channel()
    {
        Container("web", running: false);
        using var socket = new ClientWebSocket();
        Secure(socket);
        socket.Options.AddSubProtocol("v4.channel.k8s.io");
        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{_port}/attach/default/web/main?stdout=true"), default);

        var status = Encoding.UTF8.GetString((await ReceiveAllAsync(socket)).Single(m => m[0] == 3).AsSpan(1));
        Assert.Contains("\"status\":\"Failure\"", status);
        Assert.Equal("container not found (\"main\")", System.Text.Json.Nodes.JsonNode.Parse(status)!["message"]!.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("channel.k8s.io")]
    public async Task Exec_without_a_subprotocol_or_with_the_oldest_gets_binary_channels_and_a_failure_as_text(string? protocol)
    {
        // the kubelet's "" and channel.k8s.io entries (v1WriteStatusFunc): nothing on the error channel on success,
        // a failure's message as text; the KubernetesClient library's WebSocketNamespacedPodExecAsync names none
        Container("web");
        foreach (var (exitCode, expected) in new[] { (0, (string?)null),
                     (3, "command terminated with non-zero exit code: error executing command [sh -c x], exit code 3") })
        {
            _runtime.ExecSessions = _ => new ScriptedSession("out\n", exitCode, waitForStdin: false);
            using var socket = new ClientWebSocket();
            Secure(socket);
            if (protocol is not null) socket.Options.AddSubProtocol(protocol);
            await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{_port}/exec/default/web/main?command=sh&command=-c&command=x&stdout=true"), default);
            Assert.Equal(protocol, string.IsNullOrEmpty(socket.SubProtocol) ? null : socket.SubProtocol);

            var messages = await ReceiveAllAsync(socket);
            Assert.Equal("out\n", Encoding.UTF8.GetString(messages[0], 1, messages[0].Length - 1));
            var error = messages.Where(m => m[0] == 3).Select(m => Encoding.UTF8.GetString(m, 1, m.Length - 1)).SingleOrDefault();
            Assert.Equal(expected, error);
        }
    }

    [Fact]
    public async Task Exec_refuses_subprotocols_it_does_not_serve()
    {
        Container("web");
        using var socket = new ClientWebSocket();
        Secure(socket);
        socket.Options.AddSubProtocol("v4.base64.channel.k8s.io");
        var refused = await Assert.ThrowsAsync<WebSocketException>(() =>
            socket.ConnectAsync(new Uri($"wss://127.0.0.1:{_port}/exec/default/web/main?command=sh&stdout=true"), default));
        Assert.Contains("400", refused.Message);
    }

    private static async Task<List<byte[]>> ReceiveAllAsync(ClientWebSocket socket)
    {
        var messages = new List<byte[]>();
        var buffer = new byte[4096];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, default);
            if (received.MessageType == WebSocketMessageType.Close) return messages;
            messages.Add(buffer[..received.Count]);
        }
    }

    [Fact]
    public async Task Port_forward_tunnels_spdy_in_a_websocket_with_kubectls_subprotocol_to_the_pods_port()
    {
        await using var pod = new EchoServer("hi ");
        Container("web").Ip = "127.0.0.1";

        var (socket, response) = await RawWebSocket.ConnectAsync(_port, "/portForward/default/web", PortForwardSession.SpdyTunnelProtocol, Ca.ClientCertificate());

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
    public async Task Pod_proxy_forwards_one_request_to_the_pods_address_and_streams_the_answer_back()
    {
        string? seen = null, host = null, body = null, connection = null;
        await using var pod = await PodHttpServer(async context =>
        {
            seen = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
            host = context.Request.Headers.Host;
            connection = context.Request.Headers["X-Custom"];
            body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Response.StatusCode = 201;
            context.Response.Headers["X-From-Pod"] = "yes";
            await context.Response.WriteAsync("pod answer");
        });
        Container("web").Ip = "127.0.0.1";

        using var request = new HttpRequestMessage(HttpMethod.Put, $"https://127.0.0.1:{_port}/podProxy/default/web/http/127.0.0.1/{pod.Port}/a/b%20c/?q=1")
        {
            Content = new StringContent("sent"),
        };
        request.Headers.Host = "api.example:6443";
        request.Headers.Add("X-Custom", "passed");
        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("pod answer", await response.Content.ReadAsStringAsync());
        Assert.Equal("yes", response.Headers.GetValues("X-From-Pod").Single());
        Assert.Equal("/a/b%20c/?q=1", seen);
        Assert.Equal("api.example:6443", host);
        Assert.Equal("passed", connection);
        Assert.Equal("sent", body);
    }

    [Fact]
    public async Task Pod_proxy_dials_only_the_pods_own_address_and_says_when_it_cannot_reach_it()
    {
        Container("web").Ip = "127.0.0.1";
        int closed;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closed = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var other = await Get($"/podProxy/default/web/http/127.0.0.2/{closed}/");
        var refused = await Get($"/podProxy/default/web/http/127.0.0.1/{closed}/");
        var missing = await Get($"/podProxy/default/nope/http/127.0.0.1/{closed}/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, other.StatusCode);
        Assert.Contains("pod default/web has no running container with address 127.0.0.2", await other.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var status = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.Equal("Status", (string?)status["kind"]);
        Assert.Equal("ServiceUnavailable", (string?)status["reason"]);
        Assert.Equal(503, (int?)status["code"]);
        Assert.Equal($"error trying to reach service: dial tcp 127.0.0.1:{closed}: connect: connection refused", (string?)status["message"]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, missing.StatusCode);
    }

    [Fact]
    public async Task Pod_proxy_upgrades_to_the_pods_websocket_and_splices_both_ways()
    {
        string? seen = null;
        await using var pod = await PodHttpServer(async context =>
        {
            seen = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[100];
            var received = await socket.ReceiveAsync(buffer, default);
            await socket.SendAsync(buffer.AsMemory(0, received.Count), WebSocketMessageType.Text, true, default);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", default);
        });
        Container("web").Ip = "127.0.0.1";

        using var client = new ClientWebSocket();
        Secure(client);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.ConnectAsync(new Uri($"wss://127.0.0.1:{_port}/podProxy/default/web/http/127.0.0.1/{pod.Port}/ws"), timeout.Token);
        await client.SendAsync("ping"u8.ToArray(), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[100];
        var echoed = await client.ReceiveAsync(buffer, timeout.Token);
        var closing = await client.ReceiveAsync(buffer.AsMemory(50), timeout.Token);

        Assert.Equal("ping", Encoding.UTF8.GetString(buffer, 0, echoed.Count));
        Assert.Equal(WebSocketMessageType.Close, closing.MessageType);
        Assert.Equal("/ws", seen);
    }

    [Fact]
    public async Task Pod_proxy_upgrade_to_a_closed_port_is_a_500_status_and_a_refusal_is_relayed()
    {
        await using var pod = await PodHttpServer(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return context.Response.WriteAsync("no such socket");
        });
        Container("web").Ip = "127.0.0.1";
        int closed;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closed = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        using var refused = await Http.SendAsync(Upgrade($"/podProxy/default/web/http/127.0.0.1/{closed}/ws"));
        var status = System.Text.Json.Nodes.JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        using var missing = await Http.SendAsync(Upgrade($"/podProxy/default/web/http/127.0.0.1/{pod.Port}/ws"));

        Assert.Equal(HttpStatusCode.InternalServerError, refused.StatusCode);
        Assert.Equal("Status", status["kind"]!.ToString());
        Assert.Equal(500, (int)status["code"]!);
        Assert.StartsWith("error dialing backend: ", status["message"]!.ToString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("no such socket", await missing.Content.ReadAsStringAsync());
    }

    private HttpRequestMessage Upgrade(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"https://127.0.0.1:{_port}{path}");
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new ProductHeaderValue("websocket"));
        return request;
    }

    /// <summary>A plain HTTP server on loopback standing in for a pod.</summary>
    private static async Task<PodServer> PodHttpServer(RequestDelegate handler)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.UseWebSockets();
        app.Run(handler);
        await app.StartAsync();
        return new PodServer(app, new Uri(app.Urls.First()).Port);
    }

    private sealed record PodServer(WebApplication App, int Port) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    [Fact]
    public async Task Port_forward_refuses_requests_without_the_upgrade_or_for_a_pod_without_a_running_container()
    {
        Container("stopped", running: false);

        var plain = await Get("/portForward/default/web");
        var (none, response) = await RawWebSocket.ConnectAsync(_port, "/portForward/default/stopped", PortForwardSession.SpdyTunnelProtocol, Ca.ClientCertificate());

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
        Secure(socket);
        socket.Options.AddSubProtocol("v4.channel.k8s.io");
        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{_port}/portForward/default/web?port={pod.Port},{closed}"), default);
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
        Secure(socket);
        socket.Options.AddSubProtocol("v4.channel.k8s.io");
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"wss://127.0.0.1:{_port}/portForward/default/web"), default));
        Assert.Equal(HttpStatusCode.BadRequest, socket.HttpStatusCode);
    }

    /// <summary>Prints its output once stdin is closed, then ends with the exit code.</summary>
    private sealed class ScriptedSession(string output, int exitCode, bool waitForStdin = true) : IExecSession
    {
        private readonly TaskCompletionSource _closed = new();
        private bool _sent;
        public StringBuilder Stdin { get; } = new();
        public bool StdinClosed => _closed.Task.IsCompleted;

        public async Task<ExecOutput> ReadAsync(byte[] buffer, CancellationToken ct)
        {
            if (waitForStdin) await _closed.Task.WaitAsync(ct);
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
        public (int, int) Size { get; private set; }
        public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task ResizeAsync(int width, int height, CancellationToken ct)
        {
            Size = (width, height);
            return Task.CompletedTask;
        }

        public Task<int> ExitCodeAsync(CancellationToken ct) => Task.FromResult(exitCode);
        public void Dispose() => Disposed.TrySetResult();
    }
}
