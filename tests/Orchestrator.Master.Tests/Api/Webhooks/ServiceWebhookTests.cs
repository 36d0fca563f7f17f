using System.Buffers.Binary;
using System.Net;
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
using Orchestrator.Master.Tests.Api;
using Orchestrator.Shared.Protocol;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Webhooks;

/// <summary>
/// A webhook named by clientConfig.service: the master finds the Service's ready endpoint in its EndpointSlice, opens the
/// pod's port through the node's kubelet endpoint (a stand-in that speaks v4.channel.k8s.io port forwarding, TLS with the
/// node's certificate, the master's client certificate required, and dials the port on loopback) and speaks TLS to the
/// webhook through it, verifying the name hook.default.svc against the caBundle.
/// </summary>
public sealed class ServiceWebhookTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private WebApplication? _kubelet;
    private string? _kubeletPath;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync(https: true);

    public async Task DisposeAsync()
    {
        if (_kubelet is not null) await _kubelet.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_service_webhook_is_reached_through_the_kubelet_with_tls_to_the_service_name()
    {
        await using var hook = await WebhookServer.StartAsync((_, request) =>
            (request["name"]?.GetValue<string>() ?? "").StartsWith("bad")
                ? new JsonObject { ["allowed"] = false, ["status"] = new JsonObject { ["message"] = "not through the service" } }
                : new JsonObject { ["allowed"] = true }, dnsName: "hook.default.svc");
        await StartNodeWithWebhookPod(hook.Address.Port);
        var bundle = Convert.ToBase64String(Encoding.UTF8.GetBytes(hook.CaBundlePem));
        var (created, body) = await _server.SendAsync(HttpMethod.Post, "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", $$"""
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"svc"},
             "webhooks":[{"name":"svc.example.com","sideEffects":"None","admissionReviewVersions":["v1"],
               "clientConfig":{"service":{"name":"hook","namespace":"default","path":"/validate"},"caBundle":"{{bundle}}"},
               "rules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["configmaps"]}]}]}
            """);
        Assert.True(created == HttpStatusCode.Created, body?.ToJsonString());
        Assert.Equal(443, body!["webhooks"]![0]!["clientConfig"]!["service"]!["port"]!.GetValue<int>());

        var (status, refusal) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bad"}}""");
        Assert.True(status == HttpStatusCode.BadRequest, refusal?.ToJsonString());
        Assert.Equal("admission webhook \"svc.example.com\" denied the request: not through the service", refusal!["message"]!.GetValue<string>());
        Assert.Equal("/portForward/default/hook-pod", _kubeletPath);
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"good"}}""")).Status);
    }

    [Fact]
    public async Task A_service_without_ready_endpoints_is_a_call_failure()
    {
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/services",
            """{"apiVersion":"v1","kind":"Service","metadata":{"name":"empty"},"spec":{"ports":[{"port":443}]}}""")).Status);
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"empty"},
             "webhooks":[{"name":"empty.example.com","sideEffects":"None","admissionReviewVersions":["v1"],
               "clientConfig":{"service":{"name":"empty","namespace":"default"}},
               "rules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["configmaps"]}]}]}
            """)).Status);
        var (status, body) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}""");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal("Internal error occurred: failed calling webhook \"empty.example.com\": failed to call webhook: " +
                     "Post \"https://empty.default.svc:443/?timeout=10s\": no endpoints available for service \"empty\"",
            body!["message"]!.GetValue<string>());
    }

    /// <summary>Node n1 (its kubelet endpoint the stand-in), a Running pod hook-pod on it, and the Service hook whose
    /// EndpointSlice names the pod with target port <paramref name="webhookPort"/>.</summary>
    private async Task StartNodeWithWebhookPod(int webhookPort)
    {
        var kubeletPort = await StartForwardingKubelet(ApiTestServer.IssueKubeletServing("n1", IPAddress.Loopback));
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, "/api/v1/nodes",
            """{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}""")).Status);
        var (_, node) = await _server.SendAsync(HttpMethod.Get, "/api/v1/nodes/n1");
        node!["status"] = new JsonObject
        {
            ["addresses"] = new JsonArray(new JsonObject { ["type"] = "InternalIP", ["address"] = "127.0.0.1" }),
            ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = kubeletPort } },
        };
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, "/api/v1/nodes/n1/status", node.ToJsonString())).Status);
        var (created, pod) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"hook-pod"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"}]}}""");
        Assert.Equal(HttpStatusCode.Created, created);
        pod!["status"] = new JsonObject { ["phase"] = "Running" };
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, "/api/v1/namespaces/default/pods/hook-pod/status", pod.ToJsonString())).Status);
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/services",
            """{"apiVersion":"v1","kind":"Service","metadata":{"name":"hook"},"spec":{"ports":[{"name":"https","port":443}]}}""")).Status);
        var (slice, sliceBody) = await _server.SendAsync(HttpMethod.Post, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", $$$"""
            {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"hook-1","labels":{"kubernetes.io/service-name":"hook"}},
             "addressType":"IPv4","ports":[{"name":"https","port":{{{webhookPort}}},"protocol":"TCP"}],
             "endpoints":[{"addresses":["10.99.0.5"],"conditions":{"ready":true},"targetRef":{"kind":"Pod","name":"hook-pod","namespace":"default"}}]}
            """);
        Assert.True(slice == HttpStatusCode.Created, sliceBody?.ToJsonString());
    }

    /// <summary>A kubelet endpoint whose /portForward speaks v4.channel.k8s.io for one port: both channels' port prefixes,
    /// then bytes copied between channel 0 and a TCP connection to that port on loopback.</summary>
    private async Task<int> StartForwardingKubelet(X509Certificate2 serving)
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
            _kubeletPath = context.Request.Path;
            var port = int.Parse(context.Request.Query["port"]!);
            using var socket = await context.WebSockets.AcceptWebSocketAsync("v4.channel.k8s.io");
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            var stream = tcp.GetStream();
            var prefix = new byte[3];
            BinaryPrimitives.WriteUInt16LittleEndian(prefix.AsSpan(1), (ushort)port);
            await socket.SendAsync(prefix, WebSocketMessageType.Binary, true, default);
            prefix[0] = 1;
            await socket.SendAsync(prefix, WebSocketMessageType.Binary, true, default);
            var toPod = Task.Run(async () =>
            {
                var buffer = new byte[65536];
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer, default);
                    if (received.MessageType == WebSocketMessageType.Close) return;
                    // one whole message per write from the master: the channel byte, then the data
                    await stream.WriteAsync(buffer.AsMemory(1, received.Count - 1));
                }
            });
            var fromPod = Task.Run(async () =>
            {
                var buffer = new byte[65536];
                int n;
                while ((n = await stream.ReadAsync(buffer.AsMemory(1))) > 0)
                    await socket.SendAsync(buffer.AsMemory(0, n + 1), WebSocketMessageType.Binary, true, default);
            });
            try { await Task.WhenAny(toPod, fromPod); }
            catch (Exception e) when (e is IOException or WebSocketException) { }
        });
        await _kubelet.StartAsync();
        return new Uri(_kubelet.Urls.First()).Port;
    }
}
