using System.Net;
using System.Net.Http.Headers;
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
using Orchestrator.Master.Api.Rest;
using Orchestrator.Shared.Protocol;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Rest;

/// <summary>
/// pods/{id}/proxy and services/{id}/proxy: kube-apiserver 1.32's parsing of the id and resolution of the target (its
/// Status answers), and the relay of one request through a stand-in kubelet endpoint of the pod's node.
/// </summary>
public sealed class PodServiceProxyTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private HttpClient _client = null!;
    private WebApplication? _kubelet;
    private string? _kubeletPath, _kubeletHost, _kubeletAuthorization, _kubeletForwardedUri, _kubeletBody, _kubeletUpgrade, _kubeletForwardedFor;

    public async Task InitializeAsync()
    {
        _server = await ApiTestServer.StartAsync(https: true);
        _client = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true, AllowAutoRedirect = false })
            { BaseAddress = _server.Address };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _server.Token);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        if (_kubelet is not null) await _kubelet.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("web", "", "web", "")]
    [InlineData("web:8080", "", "web", "8080")]
    [InlineData("web:http", "", "web", "http")]
    [InlineData("https:web:443", "https", "web", "443")]
    [InlineData("http:web:", "http", "web", "")]
    public void Ids_are_name_name_port_or_scheme_name_port(string id, string scheme, string name, string port) =>
        Assert.Equal((scheme, name, port), ProxyLocation.SplitSchemeNamePort(id));

    [Theory]
    [InlineData("")]
    [InlineData(":80")]
    [InlineData("ftp:web:21")]
    [InlineData("a:b:c:d")]
    public void Other_ids_are_invalid(string id) => Assert.Null(ProxyLocation.SplitSchemeNamePort(id));

    [Theory]
    [InlineData("10.1.2.3", true)]
    [InlineData("240.0.0.1", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    public void Only_global_unicast_pod_addresses_are_proxied(string address, bool allowed) =>
        Assert.Equal(allowed, ProxyLocation.IsGlobalUnicast(IPAddress.Parse(address)));

    [Theory]
    [InlineData("/login", "/p/proxy/login")]
    [InlineData("/p/proxy/login", "/p/proxy/login")]
    [InlineData("http://10.1.2.3:8080/login?next=/", "/p/proxy/login?next=/")]
    [InlineData("https://api.example:6443/login", "https://api.example:6443/p/proxy/login")]
    [InlineData("http://elsewhere.example/login", "http://elsewhere.example/login")]
    [InlineData("login", "login")]
    [InlineData("//elsewhere.example/x", "//elsewhere.example/x")]
    public void Redirects_of_the_pod_are_rewritten_to_go_through_the_proxy(string location, string rewritten) =>
        Assert.Equal(rewritten, PodServiceProxy.RewriteLocation(location, "/p/proxy", "10.1.2.3:8080", "api.example:6443"));

    [Fact]
    public async Task A_missing_pod_or_service_is_not_found_a_bad_id_is_a_bad_request()
    {
        await AssertStatus("/api/v1/namespaces/default/pods/nope/proxy/", HttpStatusCode.NotFound, "pods \"nope\" not found");
        await AssertStatus("/api/v1/namespaces/default/pods/ftp:nope:21/proxy/", HttpStatusCode.BadRequest, "invalid pod request \"ftp:nope:21\"");
        await AssertStatus("/api/v1/namespaces/default/services/a:b:c:d/proxy/", HttpStatusCode.BadRequest, "invalid service request \"a:b:c:d\"");
        await AssertStatus("/api/v1/namespaces/default/services/nope/proxy/", HttpStatusCode.NotFound, "endpoints \"nope\" not found");
        await AssertStatus("/api/v1/namespaces/default/services/nope:80/proxy/", HttpStatusCode.NotFound, "services \"nope\" not found");
    }

    [Fact]
    public async Task A_pod_without_a_global_unicast_address_is_not_proxied()
    {
        await CreatePod("pending", ip: null);
        await AssertStatus("/api/v1/namespaces/default/pods/pending/proxy/", HttpStatusCode.BadRequest, "address not allowed");
        await CreatePod("loopback", ip: "127.0.0.1");
        await AssertStatus("/api/v1/namespaces/default/pods/loopback:80/proxy/", HttpStatusCode.BadRequest, "address not allowed");
    }

    [Fact]
    public async Task Service_ports_are_found_by_number_or_name_among_ready_endpoints()
    {
        await CreatePod("p", ip: "10.1.2.3");
        await Create("/api/v1/namespaces/default/services",
            """{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"name":"web","port":80,"targetPort":8080}]}}""");
        await AssertStatus("/api/v1/namespaces/default/services/s:81/proxy/", HttpStatusCode.ServiceUnavailable, "no service port 81 found for service \"s\"");
        await Create("/api/v1/namespaces/default/endpoints", """{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"s"}}""");
        await AssertStatus("/api/v1/namespaces/default/services/s:web/proxy/", HttpStatusCode.ServiceUnavailable, "no endpoints available for service \"s\"");
        var (_, endpoints) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/endpoints/s");
        endpoints!["subsets"] = JsonNode.Parse("""
            [{"addresses":[{"ip":"10.1.2.3","targetRef":{"kind":"Pod","namespace":"default","name":"p"}}],
              "notReadyAddresses":[{"ip":"10.9.9.9","targetRef":{"kind":"Pod","namespace":"default","name":"p"}}],
              "ports":[{"name":"web","port":8080}]}]
            """);
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, "/api/v1/namespaces/default/endpoints/s", endpoints.ToJsonString())).Status);
        // the service has one named port: without its name nothing matches, as in Kubernetes
        await AssertStatus("/api/v1/namespaces/default/services/s/proxy/", HttpStatusCode.ServiceUnavailable, "no endpoints available for service \"s\"");
        await AssertStatus("/api/v1/namespaces/default/services/s:other/proxy/", HttpStatusCode.ServiceUnavailable, "no endpoints available for service \"s:other\"");
        // resolved (10.1.2.3:8080 on node n1), then relayed: n1 has no kubelet endpoint yet
        await AssertStatus("/api/v1/namespaces/default/services/s:80/proxy/", HttpStatusCode.NotFound, "nodes \"n1\" not found");
    }

    [Fact]
    public async Task A_request_without_a_path_is_redirected_to_the_proxy_root()
    {
        await CreatePod("p", ip: "10.1.2.3");
        using var response = await _client.GetAsync("/api/v1/namespaces/default/pods/p:8080/proxy?a=b");
        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal("/api/v1/namespaces/default/pods/p:8080/proxy/?a=b", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Other_methods_are_refused()
    {
        await CreatePod("p", ip: "10.1.2.3");
        using var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod("TRACE"), "/api/v1/namespaces/default/pods/p/proxy/"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Theory]
    [InlineData("pods/p")]
    [InlineData("services/s:80")]
    public async Task A_websocket_is_relayed_to_the_pod_through_its_node_and_messages_pass_both_ways(string target)
    {
        await StartNode();
        await CreatePod("p", ip: "10.1.2.3", port: 8080);
        await CreateService("s", "10.1.2.3", 8080);
        using var socket = await WebSocketAsync($"/api/v1/namespaces/default/{target}/proxy/ws?token=1", "chat");

        await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, default);
        var buffer = new byte[100];
        var received = await socket.ReceiveAsync(buffer, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        Assert.Equal("echo: hello", Encoding.UTF8.GetString(buffer, 0, received.Count));
        Assert.Equal("chat", socket.SubProtocol); // the pod's choice, relayed in its 101
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);

        // the path alone (kube 1.32 drops the query of an upgrade), no credential, the client's address appended
        Assert.Equal("/podProxy/default/p/http/10.1.2.3/8080/ws", _kubeletPath);
        Assert.Null(_kubeletAuthorization);
        Assert.Equal("websocket", _kubeletUpgrade);
        Assert.Equal("127.0.0.1", _kubeletForwardedFor);
        Assert.Equal("", _kubeletForwardedUri ?? "");
    }

    [Fact]
    public async Task An_upgrade_without_a_path_goes_to_the_pods_root_and_is_not_redirected()
    {
        await StartNode();
        await CreatePod("p", ip: "10.1.2.3", port: 8080);
        using var socket = await WebSocketAsync("/api/v1/namespaces/default/pods/p/proxy");
        Assert.Equal("/podProxy/default/p/http/10.1.2.3/8080/", _kubeletPath);
    }

    [Fact]
    public async Task A_refused_upgrade_is_relayed_as_the_pod_answered_and_any_other_non_101_is_a_500()
    {
        await StartNode();
        await CreatePod("p", ip: "10.1.2.3", port: 8080);

        using (var refused = await _client.SendAsync(UpgradeRequest("/api/v1/namespaces/default/pods/p/proxy/refuse")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("not you", await refused.Content.ReadAsStringAsync());
            Assert.Equal("kept", refused.Headers.GetValues("X-Pod").Single());
        }
        using var plain = await _client.SendAsync(UpgradeRequest("/api/v1/namespaces/default/pods/p/proxy/plain"));
        Assert.Equal(HttpStatusCode.InternalServerError, plain.StatusCode);
        var status = JsonNode.Parse(await plain.Content.ReadAsStringAsync())!;
        Assert.Equal("invalid upgrade response: status code 200", status["message"]!.ToString());
        Assert.Null(status["reason"]); // kube's ErrorToAPIStatus: StatusReasonUnknown, left out
    }

    [Fact]
    public async Task Upgrades_to_a_pod_without_an_address_or_an_unreachable_node_are_answered_with_a_status()
    {
        await CreatePod("pending", ip: null);
        using (var noAddress = await _client.SendAsync(UpgradeRequest("/api/v1/namespaces/default/pods/pending/proxy/ws")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, noAddress.StatusCode);
            Assert.Contains("address not allowed", await noAddress.Content.ReadAsStringAsync());
        }
        await CreateNode(kubeletPort: 1);
        await CreatePod("p", ip: "10.1.2.3");
        using var unreachable = await _client.SendAsync(UpgradeRequest("/api/v1/namespaces/default/pods/p:80/proxy/ws"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unreachable.StatusCode);
        Assert.Contains("error trying to reach node n1", await unreachable.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Connection_upgrade_alone_is_an_upgrade_and_an_upgrade_header_alone_is_an_ordinary_request()
    {
        await StartNode();
        await CreatePod("p", ip: "10.1.2.3", port: 8080);
        // httpstream.IsUpgradeRequest reads the Connection header only: kube dials and writes the upgrade, and the
        // backend's answer decides (here a 202: not a switch, not a refusal)
        using (var noUpgrade = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/default/pods/p/proxy/ws"))
        {
            noUpgrade.Headers.Connection.Add("Upgrade");
            using var response = await _client.SendAsync(noUpgrade);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.InternalServerError, $"{response.StatusCode}: {body}");
            Assert.Contains("invalid upgrade response: status code 202", body);
        }
        // an Upgrade header without the Connection token is no upgrade (httpstream.IsUpgradeRequest); it is not forwarded
        using var ordinary = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/default/pods/p/proxy/x?q=1");
        ordinary.Headers.TryAddWithoutValidation("Upgrade", "websocket");
        using var relayed = await _client.SendAsync(ordinary);
        Assert.Equal(HttpStatusCode.Accepted, relayed.StatusCode);
        Assert.Equal("/podProxy/default/p/http/10.1.2.3/8080/x?q=1", _kubeletPath);
        Assert.Null(_kubeletUpgrade);
    }

    [Fact]
    public async Task A_websocket_over_http2_is_refused_with_a_status()
    {
        await CreatePod("p", ip: "10.1.2.3", port: 8080);
        // RFC 8441's extended CONNECT, which Kestrel accepts on HTTP/2; kube-apiserver upgrades only HTTP/1.1
        using var request = new HttpRequestMessage(HttpMethod.Connect, new Uri(_server.Address!, "/api/v1/namespaces/default/pods/p/proxy/ws"))
        {
            Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Protocol = "websocket";
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
        request.Content = new StreamContent(new MemoryStream()); // the stream a WebSocket over HTTP/2 writes to
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    private HttpRequestMessage UpgradeRequest(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new ProductHeaderValue("websocket"));
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));
        return request;
    }

    private async Task<ClientWebSocket> WebSocketAsync(string path, string? subProtocol = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + _server.Token);
        if (subProtocol is not null) socket.Options.AddSubProtocol(subProtocol);
        var uri = new UriBuilder(new Uri(_server.Address!, path)) { Scheme = "wss" }.Uri;
        await socket.ConnectAsync(uri, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        return socket;
    }

    private async Task CreateService(string name, string ip, int port)
    {
        await Create("/api/v1/namespaces/default/services",
            $$$"""{"apiVersion":"v1","kind":"Service","metadata":{"name":"{{{name}}}"},"spec":{"ports":[{"port":80,"targetPort":{{{port}}}}]}}""");
        await Create("/api/v1/namespaces/default/endpoints", $$$"""
            {"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"{{{name}}}"},
             "subsets":[{"addresses":[{"ip":"{{{ip}}}","targetRef":{"kind":"Pod","namespace":"default","name":"p"}}],"ports":[{"port":{{{port}}}}]}]}
            """);
    }

    [Fact]
    public async Task The_request_is_relayed_to_the_pods_node_without_the_callers_credential()
    {
        await StartNode();
        await CreatePod("p", ip: "10.1.2.3", port: 8080);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/namespaces/default/pods/p/proxy/a/b%20c/?x=1&y=2")
        {
            Content = new StringContent("hello", Encoding.UTF8, "text/plain"),
        };
        using var response = await _client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("from the pod", body);
        Assert.Equal("/podProxy/default/p/http/10.1.2.3/8080/a/b%20c/?x=1&y=2", _kubeletPath);
        Assert.Equal("hello", _kubeletBody);
        Assert.Equal(_server.Address!.Authority, _kubeletHost);
        Assert.Equal("/api/v1/namespaces/default/pods/p/proxy/a/b%20c/", _kubeletForwardedUri);
        Assert.Null(_kubeletAuthorization);
        Assert.Equal("/api/v1/namespaces/default/pods/p/proxy/next", response.Headers.Location!.OriginalString);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        // the pod's page runs in an origin of its own, away from the dashboard's token
        Assert.Equal(PodServiceProxy.SandboxPolicy, Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("kept", response.Headers.GetValues("X-Pod").Single());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_links_of_a_pods_html_page_go_through_the_proxy(bool gzip)
    {
        await StartNode();
        await CreatePod("p", ip: "10.1.2.3", port: 8080);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/default/pods/p/proxy/page");
        if (gzip) request.Headers.AcceptEncoding.ParseAdd("gzip");
        using var response = await _client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        if (gzip)
        {
            Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
            using var unpacked = new MemoryStream();
            using (var reader = new System.IO.Compression.GZipStream(new MemoryStream(body), System.IO.Compression.CompressionMode.Decompress))
                reader.CopyTo(unpacked);
            body = unpacked.ToArray();
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""<a href="/api/v1/namespaces/default/pods/p/proxy/about">About</a> <img src=logo.png> <link href="/api/v1/namespaces/default/pods/p/proxy/s.css">""",
            Encoding.UTF8.GetString(body));
        Assert.Equal(response.Content.Headers.ContentLength, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task Bodies_beyond_the_APIs_limit_are_streamed_to_the_pod()
    {
        await StartNode();
        await CreatePod("p", ip: "10.1.2.3", port: 8080);
        var size = 13 * 1024 * 1024; // more than Kestrel's limit for API requests (12 MiB)
        using var response = await _client.PutAsync("/api/v1/namespaces/default/pods/p/proxy/upload",
            new ByteArrayContent(Enumerable.Repeat((byte)'x', size).ToArray()));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(size, _kubeletBody!.Length);
    }

    [Fact]
    public async Task A_node_that_cannot_be_reached_is_named_in_a_503()
    {
        await CreateNode(kubeletPort: 1); // nothing listens there
        await CreatePod("p", ip: "10.1.2.3");
        await AssertStatus("/api/v1/namespaces/default/pods/p:80/proxy/", HttpStatusCode.ServiceUnavailable, "error trying to reach node n1");
    }

    private async Task AssertStatus(string path, HttpStatusCode code, string message)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, path);
        Assert.True(code == status, $"{status}: {body?.ToJsonString()}");
        Assert.Contains(message, body!["message"]!.ToString());
    }

    private async Task Create(string path, string json)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Post, path, json);
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
    }

    private async Task CreatePod(string name, string? ip, int? port = null)
    {
        var ports = port is null ? "" : $$""","ports":[{"containerPort":{{port}}}]""";
        await Create("/api/v1/namespaces/default/pods",
            $$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"{{{name}}}"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"{{{ports}}}}]}}""");
        if (ip is null) return;
        var (_, pod) = await _server.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/default/pods/{name}");
        pod!["status"] = new JsonObject { ["phase"] = "Running", ["podIP"] = ip, ["podIPs"] = new JsonArray(new JsonObject { ["ip"] = ip }) };
        var (updated, body) = await _server.SendAsync(HttpMethod.Put, $"/api/v1/namespaces/default/pods/{name}/status", pod.ToJsonString());
        Assert.True(updated == HttpStatusCode.OK, body?.ToJsonString());
    }

    private async Task CreateNode(int kubeletPort)
    {
        await Create("/api/v1/nodes", """{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}""");
        var (_, node) = await _server.SendAsync(HttpMethod.Get, "/api/v1/nodes/n1");
        node!["status"] = new JsonObject
        {
            ["addresses"] = new JsonArray(new JsonObject { ["type"] = "InternalIP", ["address"] = "127.0.0.1" }),
            ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = kubeletPort } },
        };
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, "/api/v1/nodes/n1/status", node.ToJsonString())).Status);
    }

    /// <summary>Node n1 with a kubelet endpoint on loopback (its certificate from the kubelet CA, the master's client
    /// certificate required) that records the relayed request and answers as a pod would.</summary>
    private async Task StartNode()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = ApiTestServer.KubeletCa.IssueServing(KubeletTls.SigningRequest(key, "n1", IPAddress.Loopback), "n1", IPAddress.Loopback);
        using var withKey = KubeletTls.WithKey(pem, key)!;
        var serving = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
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
            _kubeletPath = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
            _kubeletHost = context.Request.Headers.Host;
            _kubeletAuthorization = context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null;
            _kubeletForwardedUri = context.Request.Headers["X-Forwarded-Uri"];
            _kubeletForwardedFor = context.Request.Headers["X-Forwarded-For"];
            _kubeletUpgrade = context.Request.Headers.Upgrade.Count > 0 ? context.Request.Headers.Upgrade.ToString() : null;
            if (context.WebSockets.IsWebSocketRequest)
            {
                // the node's splice to a pod that echoes, refuses, or ignores the upgrade
                if (context.Request.Path.Value!.EndsWith("/refuse"))
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    context.Response.Headers["X-Pod"] = "kept";
                    await context.Response.WriteAsync("not you");
                    return;
                }
                if (context.Request.Path.Value!.EndsWith("/plain"))
                {
                    await context.Response.WriteAsync("no websocket here");
                    return;
                }
                var offered = context.WebSockets.WebSocketRequestedProtocols;
                using var socket = await context.WebSockets.AcceptWebSocketAsync(offered.Count > 0 ? offered[0] : null);
                var buffer = new byte[100];
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer, default);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", default);
                        return;
                    }
                    await socket.SendAsync(Encoding.UTF8.GetBytes("echo: " + Encoding.UTF8.GetString(buffer, 0, received.Count)),
                        WebSocketMessageType.Text, true, default);
                }
            }
            _kubeletBody = await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            context.Response.Headers.Location = "/next";
            context.Response.Headers.AccessControlAllowOrigin = "*";
            context.Response.Headers["X-Pod"] = "kept";
            if (context.Request.Path.StartsWithSegments("/podProxy/default/p/http/10.1.2.3/8080/page"))
            {
                // a page of the pod, packed as the client allows
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Response.Headers.Remove("Location");
                context.Response.ContentType = "text/html; charset=utf-8";
                var page = Encoding.UTF8.GetBytes("""<a href="/about">About</a> <img src=logo.png> <link href='/s.css'>""");
                if (context.Request.Headers.AcceptEncoding.ToString().Contains("gzip"))
                {
                    context.Response.Headers.ContentEncoding = "gzip";
                    using var packed = new MemoryStream();
                    using (var gzip = new System.IO.Compression.GZipStream(packed, System.IO.Compression.CompressionLevel.Fastest)) gzip.Write(page);
                    page = packed.ToArray();
                }
                context.Response.ContentLength = page.Length;
                await context.Response.Body.WriteAsync(page);
                return;
            }
            await context.Response.WriteAsync("from the pod");
        });
        await _kubelet.StartAsync();
        var port = new Uri(_kubelet.Urls.First()).Port;
        await CreateNode(port);
    }
}
