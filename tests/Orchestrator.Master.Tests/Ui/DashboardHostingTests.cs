using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Orchestrator.Shared.Protocol;
using Microsoft.Extensions.Logging;
using Orchestrator.Master.Tests.Api;
using Orchestrator.Master.Ui;
using Xunit;

namespace Orchestrator.Master.Tests.Ui;

/// <summary>The dashboard's files at /ui/ (embedded at build time, served without a token) and the node proxy
/// subresource it reads traffic from, on the API test server with the dashboard in front of the API.</summary>
public sealed class DashboardHostingTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private WebApplication? _kubelet;
    private string? _kubeletAuthorization, _kubeletClient, _kubeletPathAndQuery, _kubeletCookie;

    public async Task InitializeAsync() =>
        _server = await ApiTestServer.StartAsync(https: true, beforeApi: (s => s.AddDashboard(), a => a.UseDashboard()));

    public async Task DisposeAsync()
    {
        if (_kubelet is not null) await _kubelet.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task<HttpResponseMessage> Anonymous(string path, Action<HttpRequestMessage>? prepare = null, HttpMethod? method = null)
    {
        using var http = new HttpClient(new HttpClientHandler
            { ServerCertificateCustomValidationCallback = (_, _, _, _) => true, AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
            { BaseAddress = _server.Address };
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        prepare?.Invoke(request);
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task The_page_is_served_without_a_token_with_a_strict_content_security_policy()
    {
        using var redirect = await Anonymous("/ui");
        using var page = await Anonymous("/ui/");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
        Assert.Equal("/ui/", redirect.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<script type=\"module\" src=\"app-", html);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("no-cache", page.Headers.CacheControl!.ToString());
        // the API itself still wants a token
        using var api = await Anonymous("/api/v1/pods");
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task Bundled_files_are_immutable_compressed_and_revalidated_by_etag()
    {
        using var page = await Anonymous("/ui/");
        var script = System.Text.RegularExpressions.Regex.Match(await page.Content.ReadAsStringAsync(), "src=\"(app-[^\"]+\\.js)\"").Groups[1].Value;

        using var plain = await Anonymous("/ui/" + script);
        using var brotli = await Anonymous("/ui/" + script, r => r.Headers.AcceptEncoding.ParseAdd("gzip, br"));
        using var gzip = await Anonymous("/ui/" + script, r => r.Headers.AcceptEncoding.ParseAdd("gzip"));
        using var revalidated = await Anonymous("/ui/" + script, r => r.Headers.IfNoneMatch.Add(plain.Headers.ETag!));

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal("text/javascript", plain.Content.Headers.ContentType!.MediaType);
        Assert.Contains("immutable", plain.Headers.CacheControl!.ToString());
        Assert.Equal("br", brotli.Content.Headers.ContentEncoding.Single());
        Assert.Equal("gzip", gzip.Content.Headers.ContentEncoding.Single());
        Assert.True(brotli.Content.Headers.ContentLength < plain.Content.Headers.ContentLength / 2);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
    }

    [Fact]
    public async Task Unknown_files_are_not_found_and_writes_not_allowed()
    {
        using var missing = await Anonymous("/ui/nope.js");
        using var post = await Anonymous("/ui/", method: HttpMethod.Post);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    /// <summary>/ui/ is public only for its own files: a path that climbs out of it (plain or percent-encoded) reaches
    /// the API, which wants a token.</summary>
    [Theory]
    [InlineData("/ui/../api/v1/secrets")]
    [InlineData("/ui/%2e%2e/api/v1/secrets")]
    [InlineData("/ui/%2E%2E/api/v1/namespaces/default/secrets")]
    [InlineData("/ui/./../api/v1/secrets?watch=1")]
    [InlineData("/ui/../../apis/apps/v1/deployments")]
    public async Task Paths_that_climb_out_of_ui_still_need_a_token(string path)
    {
        using var response = await Raw(path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Status", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["kind"]!.ToString());
    }

    /// <summary>API paths under /ui/ are files that do not exist (an encoded slash is no separator: "..%2f" climbs nowhere).</summary>
    [Theory]
    [InlineData("/ui/api/v1/secrets")]
    [InlineData("/ui//api/v1/secrets")]
    [InlineData("/ui/%2fapi/v1/secrets")]
    [InlineData("/ui/..%2fapi/v1/secrets")]
    public async Task Api_paths_under_ui_are_files_that_do_not_exist(string path)
    {
        using var response = await Raw(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("404 page not found\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_token_does_not_change_what_ui_serves_and_the_api_still_authorizes_it()
    {
        using var page = await Anonymous("/ui/", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token"));
        using var api = await Anonymous("/api/v1/secrets", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token"));

        // the page holds no data, so it does not look at credentials; the API refuses the same token
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    /// <summary>A request with the path exactly as written: no dot-segment removal or unescaping by the client.</summary>
    private async Task<HttpResponseMessage> Raw(string path)
    {
        var uri = new Uri(_server.Address + path.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        return await Anonymous("/", r => r.RequestUri = uri);
    }

    [Fact]
    public async Task Node_proxy_relays_to_the_kubelet_endpoint_with_the_masters_client_certificate_and_no_token()
    {
        await StartNode();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/nodes/n1/proxy/metrics?x=1");
        request.Headers.TryAddWithoutValidation("Cookie", "session=secret");
        using var response = await _server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("orchestrator_proxy_endpoint_requests_total{} 7\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("", _kubeletAuthorization);
        Assert.Contains("kube-apiserver-kubelet-client", _kubeletClient);
        Assert.Equal("/metrics?x=1", _kubeletPathAndQuery);
        Assert.Equal("", _kubeletCookie);
    }

    [Fact]
    public async Task Node_proxy_answers_a_missing_node_a_port_and_no_token_with_statuses()
    {
        var (missing, missingBody) = await _server.SendAsync(HttpMethod.Get, "/api/v1/nodes/nope/proxy/metrics");
        var (port, portBody) = await _server.SendAsync(HttpMethod.Get, "/api/v1/nodes/n1:10250/proxy/metrics");
        using var anonymous = await Anonymous("/api/v1/nodes/n1/proxy/metrics");

        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal("nodes \"nope\" not found", missingBody!["message"]!.ToString());
        Assert.Equal(HttpStatusCode.BadRequest, port);
        Assert.Contains("only the kubelet endpoint", portBody!["message"]!.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    private async Task StartNode()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = ApiTestServer.KubeletCa.IssueServing(KubeletTls.SigningRequest(key, "n1", IPAddress.Loopback), "n1", IPAddress.Loopback);
        using var withKey = KubeletTls.WithKey(pem, key)!;
        var serving = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serving,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (c, _, _) => KubeletTls.CheckMasterClient(c, ApiTestServer.KubeletCa.Certificate) is null,
        })));
        _kubelet = builder.Build();
        _kubelet.Run(async context =>
        {
            _kubeletAuthorization = context.Request.Headers.Authorization.ToString();
            _kubeletClient = context.Connection.ClientCertificate?.Subject;
            _kubeletPathAndQuery = context.Request.Path + context.Request.QueryString;
            _kubeletCookie = context.Request.Headers.Cookie.ToString();
            context.Response.ContentType = "text/plain; version=0.0.4";
            await context.Response.WriteAsync("orchestrator_proxy_endpoint_requests_total{} 7\n");
        });
        await _kubelet.StartAsync();
        var kubeletPort = new Uri(_kubelet.Urls.First()).Port;
        var (created, _) = await _server.SendAsync(HttpMethod.Post, "/api/v1/nodes", """{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}""");
        Assert.Equal(HttpStatusCode.Created, created);
        var (_, node) = await _server.SendAsync(HttpMethod.Get, "/api/v1/nodes/n1");
        node!["status"] = new JsonObject
        {
            ["addresses"] = new JsonArray(new JsonObject { ["type"] = "InternalIP", ["address"] = "127.0.0.1" }),
            ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = kubeletPort } },
        };
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, "/api/v1/nodes/n1/status", node.ToJsonString())).Status);
    }
}
