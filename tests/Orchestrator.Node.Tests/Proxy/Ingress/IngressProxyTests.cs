using Orchestrator.Node.Tests.Services;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Proxy;
using Orchestrator.Node.Proxy.Ingress;
using Orchestrator.Node.Services;
using Orchestrator.Shared.Api;
using Orchestrator.Shared.Protocol;
using static Orchestrator.Node.Tests.Proxy.ServiceProxyTests;
using static Orchestrator.Node.Tests.Proxy.YarpConfigFromEndpointsTests;

namespace Orchestrator.Node.Tests.Proxy.Ingress;

/// <summary>The ingress annotations that change how requests are proxied, through a real Kestrel node proxy (a named
/// node): affinity cookies, canary weights and headers, and HTTP/2 (h2c) to gRPC backends; and kube-proxy's health check
/// server on the healthCheckNodePort of an externalTrafficPolicy Local service. Backends are small Kestrel servers.</summary>
public sealed class IngressProxyTests : IAsyncLifetime
{
    private static readonly IPAddress NodeAddress = IPAddress.Parse("127.0.0.79");
    private readonly List<WebApplication> _backends = [];
    private readonly Dictionary<string, int> _ports = new();
    private WebApplication _node = null!;
    private ServiceProxy _proxy = null!;
    private int _ingressPort;

    public async Task InitializeAsync()
    {
        foreach (var name in new[] { "main-a", "main-b", "main-c", "canary" }) await StartBackend(name, HttpProtocols.Http1);
        await StartBackend("grpc", HttpProtocols.Http2); // h2c only, as a gRPC server in a pod
        using var certificate = SelfSigned();
        await StartBackend("tls", HttpProtocols.Http1AndHttp2, certificate); // an HTTPS pod with its own (self-signed) certificate
        await StartBackend("grpcs", HttpProtocols.Http2, certificate); // a gRPC server over TLS
        await StartBackend("echo", HttpProtocols.Http1, echoPath: true);

        _ingressPort = FreePort(NodeAddress);
        var node = WebApplication.CreateBuilder();
        node.Logging.ClearProviders();
        node.Services.AddSingleton<ServiceDirectory>();
        node.AddServiceProxy(NodeAddress, new IPEndPoint(NodeAddress, FreePort(NodeAddress)), ingress: new IngressSettings(_ingressPort, 0, "node"));
        _node = node.Build();
        _node.MapServiceProxy();
        await _node.StartAsync();
        _proxy = _node.Services.GetRequiredService<ServiceProxy>();
    }

    private async Task StartBackend(string name, HttpProtocols protocols, X509Certificate2? certificate = null, bool echoPath = false)
    {
        var port = FreePort(IPAddress.Loopback);
        var backend = WebApplication.CreateBuilder();
        backend.Logging.ClearProviders();
        backend.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o =>
        {
            o.Protocols = protocols;
            if (certificate is not null) o.UseHttps(X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null));
        }));
        var app = backend.Build();
        app.Run(ctx => ctx.Response.WriteAsync(echoPath ? $"{name} {ctx.Request.Path}{ctx.Request.QueryString}"
            : $"{name} {ctx.Request.Protocol}{(ctx.Request.IsHttps ? " tls" : "")}"));
        await app.StartAsync();
        _backends.Add(app);
        _ports[name] = port;
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        foreach (var backend in _backends) await backend.DisposeAsync();
    }

    private V1Endpoints EndpointsOf(string service, params string[] backends)
    {
        var endpoints = new V1Endpoints { Metadata = new V1ObjectMeta { Name = service, NamespaceProperty = "default" }, Subsets = [] };
        foreach (var backend in backends) endpoints.Subsets.Add(Endpoints(service, null, _ports[backend], ["127.0.0.1"]).Subsets[0]);
        return endpoints;
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=pod", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
    }

    private static V1Ingress Ingress(string name, string service, Dictionary<string, string> annotations, string path = "/", string pathType = "Prefix") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", CreationTimestamp = DateTime.UtcNow, Annotations = annotations },
        Spec = new V1IngressSpec
        {
            Rules =
            [
                new V1IngressRule
                {
                    Host = "x.test",
                    Http = new V1HTTPIngressRuleValue
                    {
                        Paths =
                        [
                            new V1HTTPIngressPath
                            {
                                Path = path, PathType = pathType,
                                Backend = new V1IngressBackend { Service = new V1IngressServiceBackend { Name = service, Port = new V1ServiceBackendPort { Number = 80 } } },
                            },
                        ],
                    },
                },
            ],
        },
    };

    private void Apply(IReadOnlyList<V1Ingress> ingresses) => _proxy.Apply(new ServicesChanged(1,
        [Service("main"), Service("canary"), Service("grpc"), Service("tls"), Service("grpcs"), Service("echo")],
        TestSlices.Of(
            EndpointsOf("main", "main-a", "main-b", "main-c"), EndpointsOf("canary", "canary"), EndpointsOf("grpc", "grpc"), EndpointsOf("tls", "tls"),
            EndpointsOf("grpcs", "grpcs"), EndpointsOf("echo", "echo")), ingresses));

    private async Task<(string Body, HttpResponseMessage Response)> Get(HttpClient client, Action<HttpRequestMessage>? configure = null, string path = "/")
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{NodeAddress}:{_ingressPort}{path}");
            request.Headers.Host = "x.test";
            configure?.Invoke(request);
            try
            {
                var response = await client.SendAsync(request);
                if (response.StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50); // the listener and routes are applied in the background
                    continue;
                }
                return (await response.Content.ReadAsStringAsync(), response);
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    [Fact]
    public async Task An_affinity_cookie_keeps_a_client_on_one_pod_and_clients_without_it_are_spread()
    {
        Apply([Ingress("web", "main", new() { [IngressAnnotations.Affinity] = "cookie", [IngressAnnotations.SessionCookieName] = "route" })]);
        using var plain = new HttpClient(new SocketsHttpHandler { UseCookies = false });
        var (first, response) = await Get(plain);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("route=", setCookie);
        var cookie = setCookie.Split(';')[0];

        for (var i = 0; i < 12; i++)
        {
            var (body, _) = await Get(plain, r => r.Headers.Add("Cookie", cookie));
            Assert.Equal(first, body);
        }
        var spread = new HashSet<string>();
        for (var i = 0; i < 12; i++) spread.Add((await Get(plain)).Body);
        Assert.Equal(3, spread.Count);
    }

    [Fact]
    public async Task A_canary_takes_its_weight_and_its_header_overrides_the_weight()
    {
        var main = Ingress("web", "main", new());
        Apply([main, Ingress("web-canary", "canary", new() { [IngressAnnotations.Canary] = "true", [IngressAnnotations.CanaryWeight] = "100", [IngressAnnotations.CanaryByHeader] = "X-Canary" })]);
        using var client = new HttpClient();
        for (var i = 0; i < 6; i++) Assert.StartsWith("canary ", (await Get(client)).Body);
        for (var i = 0; i < 6; i++) Assert.StartsWith("main-", (await Get(client, r => r.Headers.Add("X-Canary", "never"))).Body);

        Apply([main, Ingress("web-canary", "canary", new() { [IngressAnnotations.Canary] = "true", [IngressAnnotations.CanaryWeight] = "0", [IngressAnnotations.CanaryByHeader] = "X-Canary" })]);
        await WaitFor(client, body => body.StartsWith("main-", StringComparison.Ordinal));
        for (var i = 0; i < 6; i++) Assert.StartsWith("main-", (await Get(client)).Body);
        for (var i = 0; i < 6; i++) Assert.StartsWith("canary ", (await Get(client, r => r.Headers.Add("X-Canary", "always"))).Body);
    }

    [Fact]
    public async Task Backend_protocol_GRPC_speaks_http2_in_clear_text_to_the_pod()
    {
        Apply([Ingress("rpc", "grpc", new() { [IngressAnnotations.BackendProtocol] = "GRPC" })]);
        using var client = new HttpClient();
        Assert.Equal("grpc HTTP/2", (await Get(client)).Body);
    }

    [Theory]
    [InlineData("HTTPS", "tls", "tls HTTP/1.1 tls")]
    [InlineData("GRPCS", "grpcs", "grpcs HTTP/2 tls")]
    public async Task Backend_protocols_over_TLS_reach_a_pod_with_a_self_signed_certificate(string protocol, string service, string expected)
    {
        Apply([Ingress("secure", service, new() { [IngressAnnotations.BackendProtocol] = protocol })]);
        using var client = new HttpClient();
        Assert.Equal(expected, (await Get(client)).Body);
    }

    [Fact]
    public async Task A_canary_by_cookie_always_and_never_override_the_weight()
    {
        var main = Ingress("web", "main", new());
        Apply([main, Ingress("web-canary", "canary", new() { [IngressAnnotations.Canary] = "true", [IngressAnnotations.CanaryWeight] = "0", [IngressAnnotations.CanaryByCookie] = "beta" })]);
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false });
        for (var i = 0; i < 6; i++) Assert.StartsWith("main-", (await Get(client)).Body);
        for (var i = 0; i < 6; i++) Assert.StartsWith("canary ", (await Get(client, r => r.Headers.Add("Cookie", "theme=dark; beta=always"))).Body);
        for (var i = 0; i < 6; i++) Assert.StartsWith("main-", (await Get(client, r => r.Headers.Add("Cookie", "beta=other"))).Body);
    }

    [Fact]
    public async Task A_regex_path_with_captures_routes_and_rewrites_as_nginx()
    {
        Apply([Ingress("re", "echo", new() { [IngressAnnotations.RewriteTarget] = "/$2" }, "/something(/|$)(.*)", "ImplementationSpecific")]);
        using var client = new HttpClient();
        Assert.Equal("echo /new/x?q=1", (await Get(client, path: "/something/new/x?q=1")).Body);
        Assert.Equal("echo /", (await Get(client, path: "/Something")).Body);
        var (_, response) = await Get(client, path: "/other");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_local_services_health_check_port_answers_200_with_a_local_endpoint_and_503_without()
    {
        var healthPort = FreePort(NodeAddress);
        var service = Service("local", "LoadBalancer", nodePort: FreePort(NodeAddress));
        service.Spec.ExternalTrafficPolicy = "Local";
        service.Spec.HealthCheckNodePort = healthPort;
        V1Endpoints On(string node) => new()
        {
            Metadata = new V1ObjectMeta { Name = "local", NamespaceProperty = "default" },
            Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = "127.0.0.1", NodeName = node }], Ports = [new Corev1EndpointPort { Port = _ports["main-a"] }] }],
        };
        using var client = new HttpClient();
        var url = $"http://{NodeAddress}:{healthPort}/healthz";

        _proxy.Apply(new ServicesChanged(1, [service], TestSlices.Of(On("node"))));
        var (body, response) = await GetHealth(client, url, HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\n\t\"service\": {\n\t\t\"namespace\": \"default\",\n\t\t\"name\": \"local\"\n\t},\n\t\"localEndpoints\": 1,\n\t\"serviceProxyHealthy\": true\n}", body);

        _proxy.Apply(new ServicesChanged(2, [service], TestSlices.Of(On("another-node"))));
        (body, response) = await GetHealth(client, url, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("\"localEndpoints\": 0", body);
    }

    private static async Task<(string Body, HttpResponseMessage Response)> GetHealth(HttpClient client, string url, HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                var response = await client.GetAsync(url);
                if (response.StatusCode == expected || DateTime.UtcNow > deadline) return (await response.Content.ReadAsStringAsync(), response);
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { }
            await Task.Delay(50);
        }
    }

    private async Task WaitFor(HttpClient client, Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition((await Get(client)).Body))
        {
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException("the new routes were not applied");
            await Task.Delay(50);
        }
    }
}
