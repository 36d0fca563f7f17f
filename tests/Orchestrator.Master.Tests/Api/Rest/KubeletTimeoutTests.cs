using Orchestrator.Shared.Protocol;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography;
using System.Net.Security;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Rest;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Rest;

/// <summary>
/// The master's kubelet client against a node that accepts connections and never answers: logs, exec and port
/// forwarding end with a 504 Status naming the node instead of hanging, and logs whose node goes quiet mid-answer
/// end when the request's time is up.
/// </summary>
public sealed class KubeletTimeoutTests : IAsyncLifetime
{
    private static readonly KubeletTimeouts Short =
        new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3));

    private ApiTestServer _server = null!;
    private readonly TcpListener _silentNode = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> _accepted = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _accepting = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _server = await ApiTestServer.StartAsync(https: true, kubeletTimeouts: Short);
        _silentNode.Start();
        // accepts, reads nothing, answers nothing
        _accepting = Task.Run(async () =>
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var client = await _silentNode.AcceptTcpClientAsync(_stop.Token);
                    lock (_accepted) _accepted.Add(client);
                }
            }
            catch (OperationCanceledException) { }
        });
        var port = ((IPEndPoint)_silentNode.LocalEndpoint).Port;
        Assert.Equal(HttpStatusCode.Created,
            (await _server.SendAsync(HttpMethod.Post, "/api/v1/nodes", """{"apiVersion":"v1","kind":"Node","metadata":{"name":"silent"}}""")).Status);
        var (_, node) = await _server.SendAsync(HttpMethod.Get, "/api/v1/nodes/silent");
        node!["status"] = new JsonObject
        {
            ["addresses"] = new JsonArray(new JsonObject { ["type"] = "InternalIP", ["address"] = "127.0.0.1" }),
            ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = port } },
        };
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, "/api/v1/nodes/silent/status", node.ToJsonString())).Status);
        var (created, pod) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"nodeName":"silent","containers":[{"name":"c","image":"i"}]}}""");
        Assert.Equal(HttpStatusCode.Created, created);
        pod!["status"] = new JsonObject { ["phase"] = "Running" };
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, "/api/v1/namespaces/default/pods/p/status", pod.ToJsonString())).Status);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _silentNode.Stop();
        await _accepting;
        lock (_accepted) _accepted.ForEach(c => c.Dispose());
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("/api/v1/namespaces/default/pods/p/log")]
    [InlineData("/api/v1/namespaces/default/pods/p/log?follow=true")]
    public async Task Logs_from_a_node_that_does_not_answer_are_a_504_status(string path)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, path);
        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal("Timeout", body!["reason"]!.ToString());
        Assert.Contains("the node silent did not answer", body["message"]!.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("?follow=true")]
    public async Task Logs_from_a_node_that_goes_quiet_end_instead_of_hanging(string query)
    {
        // a second node answers the head and the first line, then says nothing more
        using var quiet = new TcpListener(IPAddress.Loopback, 0);
        quiet.Start();
        var serving = Task.Run(async () =>
        {
            using var client = await quiet.AcceptTcpClientAsync();
            // a kubelet endpoint is TLS with a serving certificate of the cluster's kubelet CA for this node
            await using var stream = new SslStream(client.GetStream());
            await stream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = Serving("silent"),
                ClientCertificateRequired = true,
                RemoteCertificateValidationCallback = (_, c, _, _) =>
                    KubeletTls.CheckMasterClient(c as X509Certificate2, ApiTestServer.KubeletCa.Certificate) is null,
            });
            await stream.ReadAtLeastAsync(new byte[4096], 1, throwOnEndOfStream: false); // the request has begun; its content does not matter
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello\n\r\n"u8.ToArray());
            await Task.Delay(TimeSpan.FromSeconds(30), _stop.Token).ContinueWith(_ => { });
        });
        var (_, node) = await _server.SendAsync(HttpMethod.Get, "/api/v1/nodes/silent");
        node!["metadata"]!.AsObject().Remove("resourceVersion");
        node["status"]!["daemonEndpoints"]!["kubeletEndpoint"]!["Port"] = ((IPEndPoint)quiet.LocalEndpoint).Port;
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, "/api/v1/nodes/silent/status", node.ToJsonString())).Status);

        using var response = await _server.Client.GetAsync("/api/v1/namespaces/default/pods/p/log" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello\n", await response.Content.ReadAsStringAsync());
        await _stop.CancelAsync();
        await serving;
    }

    private static X509Certificate2 Serving(string node)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = ApiTestServer.KubeletCa.IssueServing(KubeletTls.SigningRequest(key, node, IPAddress.Loopback), node, IPAddress.Loopback);
        using var withKey = KubeletTls.WithKey(pem, key)!;
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    [Theory]
    [InlineData("/api/v1/namespaces/default/pods/p/exec?command=ls&stdout=true", "v5.channel.k8s.io")]
    [InlineData("/api/v1/namespaces/default/pods/p/portforward?ports=80", "v4.channel.k8s.io")]
    public async Task Exec_and_port_forwarding_to_a_node_that_does_not_answer_are_refused_with_504(string path, string protocol)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + _server.Token);
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        socket.Options.AddSubProtocol(protocol);
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() =>
            socket.ConnectAsync(new Uri($"wss://127.0.0.1:{_server.Address!.Port}{path}"), default));
        Assert.Equal(HttpStatusCode.GatewayTimeout, socket.HttpStatusCode);
    }

    [Fact]
    public async Task A_spdy_port_forward_to_a_node_that_does_not_answer_is_refused_with_504()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/namespaces/default/pods/p/portforward");
        request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
        request.Headers.TryAddWithoutValidation("Upgrade", "SPDY/3.1");
        request.Headers.TryAddWithoutValidation("X-Stream-Protocol-Version", "portforward.k8s.io");
        using var response = await _server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }
}
