using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orchestrator.Node.Services;
using Yarp.ReverseProxy.Model;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;

namespace Orchestrator.Node.Proxy;

/// <summary>Wires the service proxy into the node's web host: YARP, the reloadable Kestrel listeners and the
/// node's small status endpoint (/healthz, /status) on <c>statusEndPoint</c>. The proxy follows the node's
/// <see cref="ServiceDirectory"/>, which the host registers.</summary>
internal static class ServiceProxyHosting
{
    public static WebApplicationBuilder AddServiceProxy(this WebApplicationBuilder builder, IPAddress nodeAddress, IPEndPoint statusEndPoint,
        string? clusterIpBridge = null, Ingress.IngressSettings? ingress = null)
    {
        var listeners = new Listeners();
        var sockets = new SharedListenSockets();
        builder.Services.AddSingleton(listeners);
        builder.Services.AddSingleton(sockets);
        builder.WebHost.UseSockets(transport => transport.CreateBoundListenSocket = sockets.Create);
        // ASP.NET Core starts an Activity per request whenever its hosting logger is enabled at any level (for log
        // scopes), and YARP then writes a new traceparent into every proxied request. Nothing here logs per request
        // or traces: without it the pods get the client's trace headers unchanged, as through kube-proxy.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Services.AddReverseProxy().LoadFromMemory(ServiceProxy.Routes, ServiceProxy.InitialClusters);
        builder.Services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory, BoundedConnectHttpClientFactory>();
        // sessionAffinity ClientIP's tables, shared by the L4 and the HTTP path (a test may register its own, with its clock)
        builder.Services.TryAddSingleton(_ => new ClientIpAffinity());
        // how ClusterIPs become local addresses (a test may register loopback ones, ClusterIpAddresses.AlreadyLocal)
        builder.Services.TryAddSingleton(sp => new ClusterIpAddresses(clusterIpBridge, sp.GetRequiredService<ILogger<ClusterIpAddresses>>()));
        builder.Services.AddSingleton<ILoadBalancingPolicy, ClientIpLoadBalancingPolicy>();
        // the L4 forwarder of the listeners of every port that is not HTTP
        builder.Services.AddSingleton(sp =>
        {
            ServiceProxy? proxy = null;
            return new TcpForwarder((listener, client) => (proxy ??= sp.GetRequiredService<ServiceProxy>()).TcpRouteFor(listener, client),
                sp.GetRequiredService<ILogger<TcpForwarder>>(), sp.GetService<IConnectionPolicy>(), sp.GetRequiredService<ClientIpAffinity>());
        });
        builder.Services.AddSingleton(sp => new TcpListeners(sp.GetRequiredService<TcpForwarder>().ServeAsync, sp.GetRequiredService<ILogger<TcpListeners>>()));
        builder.Services.AddSingleton(sp => new ServiceProxy(nodeAddress, sp.GetRequiredService<InMemoryConfigProvider>(),
            listeners, sp.GetRequiredService<TcpListeners>(), sp.GetRequiredService<ILogger<ServiceProxy>>(),
            sp.GetRequiredService<ClusterIpAddresses>(), sockets, ingress,
            sp.GetRequiredService<ClientIpAffinity>()));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // the ingress HTTPS listener (from the Listeners configuration) picks its certificate by SNI
            kestrel.ConfigureHttpsDefaults(https =>
            {
                var certificates = kestrel.ApplicationServices.GetRequiredService<ServiceProxy>().Certificates;
                https.ServerCertificateSelector = (_, name) => certificates.Select(name);
            });
            // the status endpoint is fixed; service listeners come and go with the Listeners configuration
            kestrel.Listen(statusEndPoint);
            kestrel.Configure(listeners.Configuration, reloadOnChange: true);
        });
        return builder;
    }

    public static WebApplication MapServiceProxy(this WebApplication app)
    {
        var proxy = app.Services.GetRequiredService<ServiceProxy>();
        app.Services.GetRequiredService<ServiceDirectory>().Subscribe(proxy.Apply);
        // requests on a socket that is not a service listener are for the node itself (the status endpoint)
        app.Use(async (context, next) =>
        {
            var local = context.Connection.LocalIpAddress;
            if (local is not null && proxy.IsProxyListener(new IPEndPoint(local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local, context.Connection.LocalPort)))
            {
                await next();
                return;
            }
            await WriteStatusAsync(context, proxy);
        });
        app.MapReverseProxy(pipeline =>
        {
            pipeline.Use(proxy.RouteByListenerAsync);
            pipeline.Use(async (context, next) =>
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                await next();
                var proxied = context.GetReverseProxyFeature();
                Diagnostics.NodeMetrics.ProxyRequest(proxied.Cluster.Config.ClusterId, "http", context.Response.StatusCode >= 500,
                    System.Diagnostics.Stopwatch.GetElapsedTime(started), proxied.ProxiedDestination?.DestinationId);
            });
            var policy = app.Services.GetService<IConnectionPolicy>();
            if (policy is not null) pipeline.Use((context, next) => PolicyFilter.FilterDestinations(context, next, policy));
            pipeline.UseSessionAffinity();
            pipeline.Use(RetryOnConnectFailure.RememberCandidates);
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
            pipeline.Use(RetryOnConnectFailure.InvokeAsync);
        });
        return app;
    }

    private static Task WriteStatusAsync(HttpContext context, ServiceProxy proxy)
    {
        switch (context.Request.Path.Value)
        {
            case "/metrics":
                return Diagnostics.NodeMetrics.WriteAsync(context);
            case "/healthz":
                context.Response.ContentType = "text/plain";
                return context.Response.WriteAsync("ok");
            case "/status":
                return context.Response.WriteAsJsonAsync(new
                {
                    listeners = proxy.ClusterByListener.OrderBy(kv => kv.Value).Select(kv => new { endpoint = kv.Key.ToString(), cluster = kv.Value }),
                });
            default:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
        }
    }
}
