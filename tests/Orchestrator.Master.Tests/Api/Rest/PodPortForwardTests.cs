using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Orchestrator.Shared.Protocol;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Rest;

/// <summary>
/// pods/{name}/portforward: the Status answers for pods it cannot forward to, and the relay of kubectl's WebSocket
/// (subprotocol SPDY/3.1+portforward.k8s.io) to a stand-in kubelet endpoint that echoes every message, over TLS with
/// the master's kubelet client certificate, and only to an endpoint presenting the pod's node's certificate.
/// </summary>
public sealed class PodPortForwardTests : IAsyncLifetime
{
    private const string Protocol = "SPDY/3.1+portforward.k8s.io";
    private ApiTestServer _server = null!;
    private WebApplication? _kubelet;
    private string? _kubeletClient, _kubeletPath, _kubeletQuery, _kubeletProtocols, _kubeletStreamProtocol;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync(https: true);

    public async Task DisposeAsync()
    {
        if (_kubelet is not null) await _kubelet.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task CreatePod(string name, string? node, string? phase)
    {
        var nodeName = node is null ? "" : $""","nodeName":"{node}" """;
        var (created, body) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods",
            $$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"{{{name}}}"},"spec":{"containers":[{"name":"c","image":"i"}]{{{nodeName}}}}}""");
        Assert.True(created == HttpStatusCode.Created, body?.ToJsonString());
        if (phase is null) return;
        body!["status"] = new JsonObject { ["phase"] = phase };
        var (updated, _) = await _server.SendAsync(HttpMethod.Put, $"/api/v1/namespaces/default/pods/{name}/status", body.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, updated);
    }

    [Fact]
    public async Task Discovery_lists_pods_portforward()
    {
        var (_, body) = await _server.SendAsync(HttpMethod.Get, "/api/v1");
        var resource = body!["resources"]!.AsArray().Single(r => r!["name"]!.ToString() == "pods/portforward")!;
        Assert.Equal("PodPortForwardOptions", resource["kind"]!.ToString());
    }

    [Fact]
    public async Task A_missing_pod_is_not_found_a_pod_that_is_not_running_is_a_bad_request()
    {
        await CreatePod("pending", node: null, phase: null);
        await CreatePod("running", node: "n1", phase: "Running");

        var (missing, missingBody) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods/nope/portforward");
        var (pending, pendingBody) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods/pending/portforward");
        // kubectl's fallback after a refused WebSocket: a plain request (SPDY), which is not served
        var (plain, plainBody) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/running/portforward");

        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal("NotFound", missingBody!["reason"]!.ToString());
        Assert.Equal(HttpStatusCode.BadRequest, pending);
        Assert.Contains("pod is not running", pendingBody!["message"]!.ToString());
        Assert.Equal(HttpStatusCode.BadRequest, plain);
        Assert.Contains("Upgrade request required", plainBody!["message"]!.ToString());
    }

    [Fact]
    public async Task The_websocket_is_relayed_to_the_kubelet_of_the_pods_node_with_the_kubelet_client_certificate()
    {
        await StartNodeWithPod();

        var (socket, response) = await ConnectAsync("/api/v1/namespaces/default/pods/web/portforward");

        Assert.True(socket is not null, response);
        Assert.Contains($"Sec-WebSocket-Protocol: {Protocol}", response, StringComparison.OrdinalIgnoreCase);
        using (socket)
        {
            await socket!.SendAsync(new byte[] { 0x80, 3, 0, 6 }, WebSocketMessageType.Binary, true, default);
            var buffer = new byte[16];
            var received = await socket.ReceiveAsync(buffer, default);
            Assert.Equal(new byte[] { 0x80, 3, 0, 6 }, buffer[..received.Count]);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, default);
        }
        Assert.Equal("CN=kube-apiserver-kubelet-client, O=system:masters", _kubeletClient);
        Assert.Equal("/portForward/default/web", _kubeletPath);
        // the node's portForward path means the SPDY tunnel when no subprotocol and no ports are named
        Assert.Equal(("", ""), (_kubeletQuery, _kubeletProtocols));
    }

    [Fact]
    public async Task The_channel_protocol_is_relayed_with_its_ports_and_needs_them()
    {
        await StartNodeWithPod();
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + _server.Token);
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        socket.Options.AddSubProtocol("v4.channel.k8s.io");
        using var refused = new ClientWebSocket();
        refused.Options.SetRequestHeader("Authorization", "Bearer " + _server.Token);
        refused.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        refused.Options.AddSubProtocol("v4.channel.k8s.io");
        refused.Options.CollectHttpResponseDetails = true;
        var path = $"wss://127.0.0.1:{_server.Address!.Port}/api/v1/namespaces/default/pods/web/portforward";

        await socket.ConnectAsync(new Uri(path + "?ports=80&ports=8080"), default);
        await Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(new Uri(path), default));

        Assert.Equal("v4.channel.k8s.io", socket.SubProtocol);
        Assert.Equal(("?port=80&port=8080", "v4.channel.k8s.io"), (_kubeletQuery, _kubeletProtocols));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, default);
        Assert.Equal(HttpStatusCode.BadRequest, refused.HttpStatusCode);
    }

    [Fact]
    public async Task A_plain_spdy_upgrade_is_relayed_once_the_node_has_switched_protocols()
    {
        await StartNodeWithPod();
        var (stream, response) = await OpenTlsAsync(
            "POST /api/v1/namespaces/default/pods/web/portforward HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n" +
            $"Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\nAuthorization: Bearer {_server.Token}\r\nContent-Length: 0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 101", response);
        Assert.Contains("X-Stream-Protocol-Version: portforward.k8s.io", response, StringComparison.OrdinalIgnoreCase);
        await using (stream)
        {
            await stream.WriteAsync(new byte[] { 0x80, 3, 0, 6 });
            var echoed = new byte[4];
            await stream.ReadExactlyAsync(echoed).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(new byte[] { 0x80, 3, 0, 6 }, echoed);
        }
        Assert.Equal("/portForward/default/web", _kubeletPath);
        Assert.Equal("CN=kube-apiserver-kubelet-client, O=system:masters", _kubeletClient);
    }

    [Fact]
    public async Task Exec_over_spdy_is_relayed_with_the_negotiated_channel_protocol_and_refused_with_403_when_none_fits()
    {
        await StartNodeWithPod();
        const string path = "/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=exit%203&stdin=true&stdout=1";
        var (stream, response) = await OpenTlsAsync(
            $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n" +
            "X-Stream-Protocol-Version: v5.channel.k8s.io\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: v3.channel.k8s.io\r\n" +
            $"Authorization: Bearer {_server.Token}\r\nContent-Length: 0\r\n\r\n");
        await stream.DisposeAsync();

        Assert.StartsWith("HTTP/1.1 101", response);
        Assert.Contains("X-Stream-Protocol-Version: v4.channel.k8s.io", response, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("v4.channel.k8s.io", _kubeletStreamProtocol);
        Assert.Equal("/exec/default/web/c", _kubeletPath);
        Assert.Equal("?command=sh&command=-c&command=exit%203&stdin=true&stdout=true", _kubeletQuery);

        var (refused, answer) = await OpenTlsAsync(
            $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n" +
            $"X-Stream-Protocol-Version: v5.channel.k8s.io\r\nAuthorization: Bearer {_server.Token}\r\nContent-Length: 0\r\n\r\n");
        await refused.DisposeAsync();
        Assert.StartsWith("HTTP/1.1 403", answer);
    }

    [Theory]
    [InlineData("another node's certificate")]
    [InlineData("a certificate for another address")]
    [InlineData("a certificate of another CA")]
    public async Task A_kubelet_endpoint_presenting_another_certificate_gets_nothing_and_the_client_a_503(string presenting)
    {
        var serving = presenting switch
        {
            "another node's certificate" => ApiTestServer.IssueKubeletServing("n2", IPAddress.Loopback),
            "a certificate for another address" => ApiTestServer.IssueKubeletServing("n1", IPAddress.Parse("10.1.2.3")),
            _ => ApiTestServer.IssueKubeletServing("n1", IPAddress.Loopback, new KubeletCertificateAuthority(KubeletCertificateAuthority.CreateCertificate())),
        };
        await StartNodeWithPod(serving);

        var (socket, response) = await ConnectAsync("/api/v1/namespaces/default/pods/web/portforward");
        var (stream, spdy) = await OpenTlsAsync(
            "POST /api/v1/namespaces/default/pods/web/portforward HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n" +
            $"Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\nAuthorization: Bearer {_server.Token}\r\nContent-Length: 0\r\n\r\n");
        await stream.DisposeAsync();

        Assert.Null(socket);
        Assert.StartsWith("HTTP/1.1 503", response);
        Assert.StartsWith("HTTP/1.1 503", spdy);
        Assert.Null(_kubeletPath); // no request reached it
        Assert.Null(_kubeletClient);
    }

    private async Task StartNodeWithPod(X509Certificate2? serving = null)
    {
        var kubeletPort = await StartEchoKubelet(serving ?? ApiTestServer.IssueKubeletServing("n1", IPAddress.Loopback));
        var (node, _) = await _server.SendAsync(HttpMethod.Post, "/api/v1/nodes", """{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}""");
        Assert.Equal(HttpStatusCode.Created, node);
        var (_, nodeBody) = await _server.SendAsync(HttpMethod.Get, "/api/v1/nodes/n1");
        nodeBody!["status"] = new JsonObject
        {
            ["addresses"] = new JsonArray(new JsonObject { ["type"] = "InternalIP", ["address"] = "127.0.0.1" }),
            ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = kubeletPort } },
        };
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, "/api/v1/nodes/n1/status", nodeBody.ToJsonString())).Status);
        await CreatePod("web", node: "n1", phase: "Running");
    }

    /// <summary>A kubelet endpoint on loopback whose /portForward echoes each WebSocket message: TLS with
    /// <paramref name="serving"/>, the master's client certificate required.</summary>
    private async Task<int> StartEchoKubelet(X509Certificate2 serving)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serving,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (c, _, _) => KubeletTls.CheckMasterClient(c, ApiTestServer.KubeletCa.Certificate) is null,
        })));
        _kubelet = builder.Build();
        _kubelet.UseWebSockets();
        _kubelet.Run(async context =>
        {
            _kubeletClient = context.Connection.ClientCertificate?.Subject;
            _kubeletPath = context.Request.Path;
            _kubeletQuery = context.Request.QueryString.Value;
            _kubeletProtocols = string.Join(",", context.WebSockets.WebSocketRequestedProtocols);
            if (context.Request.Headers.Upgrade == "SPDY/3.1")
            {
                _kubeletStreamProtocol = context.Request.Headers["X-Stream-Protocol-Version"];
                context.Response.Headers["X-Stream-Protocol-Version"] = _kubeletStreamProtocol;
                context.Response.Headers.Upgrade = "SPDY/3.1";
                await using var upgraded = await context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature>()!.UpgradeAsync();
                await upgraded.CopyToAsync(upgraded);
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync(context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault());
            var buffer = new byte[4096];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, default);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, default);
                    return;
                }
                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, default);
            }
        });
        await _kubelet.StartAsync();
        return new Uri(_kubelet.Urls.First()).Port;
    }

    /// <summary>kubectl's handshake, by hand over TLS: .NET's ClientWebSocket refuses to name the subprotocol.</summary>
    private async Task<(WebSocket? Socket, string Response)> ConnectAsync(string path)
    {
        var (tls, response) = await OpenTlsAsync(
            $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {Convert.ToBase64String(Guid.NewGuid().ToByteArray())}\r\nSec-WebSocket-Version: 13\r\n" +
            $"Sec-WebSocket-Protocol: {Protocol}\r\nAuthorization: Bearer {_server.Token}\r\n\r\n");
        if (!response.StartsWith("HTTP/1.1 101", StringComparison.Ordinal)) return (null, response);
        return (WebSocket.CreateFromStream(tls, new WebSocketCreationOptions { IsServer = false }), response);
    }

    /// <summary>Sends a request over TLS (HTTP/1.1 only) and reads the response head byte by byte.</summary>
    private async Task<(SslStream Stream, string Response)> OpenTlsAsync(string request)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _server.Address!.Port);
        var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            ApplicationProtocols = [SslApplicationProtocol.Http11],
        });
        await tls.WriteAsync(Encoding.ASCII.GetBytes(request));
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await tls.ReadAsync(one) == 1)
            head.Append((char)one[0]);
        return (tls, head.ToString());
    }
}
