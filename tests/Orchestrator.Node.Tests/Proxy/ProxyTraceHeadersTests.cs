using Orchestrator.Node.Tests.Services;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Proxy;
using Orchestrator.Node.Services;
using Orchestrator.Shared.Protocol;
using static Orchestrator.Node.Tests.Proxy.YarpConfigFromEndpointsTests;

namespace Orchestrator.Node.Tests.Proxy;

/// <summary>A proxied request's trace headers reach the pod as the client sent them, in a node host that logs like the
/// real one (a provider enabled at every level, which is what makes ASP.NET Core start an Activity per request).</summary>
public sealed class ProxyTraceHeadersTests : IAsyncLifetime
{
    private static readonly IPAddress NodeAddress = IPAddress.Parse("127.0.0.79");
    private WebApplication _backend = null!;
    private int _backendPort;
    private WebApplication _node = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public async Task InitializeAsync()
    {
        _backendPort = ServiceProxyTests.FreePort(IPAddress.Loopback);
        var backend = WebApplication.CreateBuilder();
        backend.Logging.ClearProviders();
        backend.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _backendPort));
        _backend = backend.Build();
        // the pod answers with the trace header it received, or "none"
        _backend.Run(ctx => ctx.Response.WriteAsync(ctx.Request.Headers.TryGetValue("traceparent", out var t) ? t.ToString() : "none"));
        await _backend.StartAsync();

        var node = WebApplication.CreateBuilder();
        node.Logging.ClearProviders();
        node.Logging.AddProvider(new EverythingEnabled());
        node.Logging.SetMinimumLevel(LogLevel.Trace);
        node.Services.AddSingleton<ServiceDirectory>();
        node.AddServiceProxy(NodeAddress, new IPEndPoint(NodeAddress, ServiceProxyTests.FreePort(NodeAddress)));
        _node = node.Build();
        _node.MapServiceProxy();
        await _node.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _backend.DisposeAsync();
        _http.Dispose();
    }

    [Fact]
    public async Task A_proxied_request_carries_the_clients_trace_headers_unchanged()
    {
        var nodePort = ServiceProxyTests.FreePort(NodeAddress);
        var endpoints = Endpoints("web", null, _backendPort, ["127.0.0.1"]);
        // an HTTP port: YARP forwards each request (an L4 port passes the bytes on as they are anyway)
        _node.Services.GetRequiredService<ServiceProxy>().Apply(new ServicesChanged(1, [Service("web", "NodePort", nodePort: nodePort, appProtocol: "http")], TestSlices.Of(endpoints)));
        var url = $"http://{NodeAddress}:{nodePort}/";

        Assert.Equal("none", await GetWhenListening(new HttpRequestMessage(HttpMethod.Get, url)));
        const string parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var traced = new HttpRequestMessage(HttpMethod.Get, url);
        traced.Headers.Add("traceparent", parent);
        Assert.Equal(parent, await GetWhenListening(traced));
    }

    private async Task<string> GetWhenListening(HttpRequestMessage request)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var copy = new HttpRequestMessage(request.Method, request.RequestUri);
                foreach (var header in request.Headers) copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
                var response = await _http.SendAsync(copy);
                response.EnsureSuccessStatusCode();
                return await response.Content.ReadAsStringAsync();
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { await Task.Delay(50); }
        }
    }

    private sealed class EverythingEnabled : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) { }
        public void Dispose() { }
    }
}
