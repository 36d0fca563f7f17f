using System.Net;
using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent.Kubelet;

/// <summary>Where the node serves its kubelet API: the node's address and a port published in the Node's
/// status.daemonEndpoints.kubeletEndpoint.</summary>
internal sealed record KubeletEndpointOptions(IPEndPoint EndPoint);

/// <summary>
/// The node's kubelet API, the part the master relays to: <c>GET /containerLogs/{ns}/{pod}/{container}</c>
/// (kubectl logs), <c>/exec/{ns}/{pod}/{container}</c> and <c>/attach/{ns}/{pod}/{container}</c> (kubectl exec and
/// attach, WebSocket channel protocol, or SPDY/3.1) and
/// <c>/portForward/{ns}/{pod}</c> (kubectl port-forward: SPDY in a WebSocket or on an upgraded connection, or the
/// WebSocket channel protocol), <c>/podProxy/…</c> (the API's pods/proxy and services/proxy, <see cref="PodProxyForwarder"/>), <c>/metrics</c>, and the stats <c>/stats/summary</c> and <c>/metrics/resource</c>. It listens only on the node's address, over TLS with the serving certificate the
/// master issued to this node (<see cref="KubeletIdentity"/>), and serves only clients presenting the master's
/// kubelet client certificate: before the node's first registration it completes no handshake.
/// </summary>
internal static class KubeletServer
{
    /// <summary>The kubelet endpoint's listener: HTTP/1.1 over TLS, the client certificate required and checked.</summary>
    public static void ListenKubelet(this KestrelServerOptions kestrel, IPEndPoint endPoint, KubeletIdentity identity)
    {
        var log = kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Orchestrator.Node.Kubelet");
        kestrel.Listen(endPoint, listen =>
        {
            listen.Protocols = HttpProtocols.Http1; // upgrades: WebSockets and SPDY
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ServerCertificateSelector = (_, _) => identity.ServingCertificate,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                CheckCertificateRevocation = false,
                // the chain is built against the kubelet CA here, not the machine's roots: Kestrel's own verdict is not used
                ClientCertificateValidation = (certificate, _, _) =>
                {
                    if (identity.CheckClient(certificate) is not { } refused) return true;
                    log.LogWarning("Kubelet endpoint refused a client: {Reason}", refused);
                    return false;
                },
            });
        });
    }

    public static WebApplication UseKubeletApi(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<KubeletEndpointOptions>();
        var runtime = app.Services.GetRequiredService<IContainerRuntime>();
        var usage = app.Services.GetService<Stats.NodeResourceUsage>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Orchestrator.Node.Kubelet");
        app.UseWebSockets();
        app.Use(async (context, next) =>
        {
            if (context.Connection.LocalPort != options.EndPoint.Port)
            {
                await next();
                return;
            }
            // the handshake checked the certificate; a connection without one never gets here
            if (context.Connection.ClientCertificate is null)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            var parts = (context.Request.Path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
            try
            {
                switch (parts)
                {
                    case ["containerLogs", var ns, var pod, var container]:
                        await ContainerLogs.ServeAsync(context, runtime, ns, pod, container);
                        break;
                    case ["exec", var ns, var pod, var container]:
                        await ExecSession.ServeAsync(context, runtime, ns, pod, container, log);
                        break;
                    case ["attach", var ns, var pod, var container]:
                        await AttachSession.ServeAsync(context, runtime, ns, pod, container, log);
                        break;
                    case ["portForward", var ns, var pod]:
                        await PortForwardSession.ServeAsync(context, runtime, ns, pod, log);
                        break;
                    case [PodProxyForwarder.Route, var ns, var pod, var scheme, var ip, var port, ..]:
                        await PodProxyForwarder.ServeAsync(context, runtime, options.EndPoint.Address, ns, pod, scheme, ip, port);
                        break;
                    case ["metrics"] when HttpMethods.IsGet(context.Request.Method):
                        // the node's metrics (proxy traffic per endpoint among them), which the master relays as nodes/{name}/proxy/metrics
                        await Diagnostics.NodeMetrics.WriteAsync(context);
                        break;
                    case ["stats", "summary"] when HttpMethods.IsGet(context.Request.Method) && usage is not null:
                        await context.Response.WriteAsJsonAsync(Stats.KubeletStats.Summary(usage.Current));
                        break;
                    case ["metrics", "resource"] when HttpMethods.IsGet(context.Request.Method) && usage is not null:
                        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                        await context.Response.WriteAsync(Stats.KubeletStats.ResourceMetrics(usage.Current));
                        break;
                    default:
                        context.Response.StatusCode = StatusCodes.Status404NotFound;
                        break;
                }
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // the client went away (kubectl logs -f ended with ^C)
            }
        });
        return app;
    }

    /// <summary>The newest container of that pod and name (running first), and the newest exited one — the instance
    /// before the running one, or while the container waits out its back-off, the one that last crashed.</summary>
    internal static async Task<(RuntimeContainer? Current, RuntimeContainer? Previous)> FindAsync(
        IContainerRuntime runtime, string ns, string pod, string container, string? podUid, CancellationToken ct)
    {
        var all = (await runtime.ListContainersAsync(podUid, ct))
            .Where(c => !c.IsSandbox && c.PodNamespace == ns && c.PodName == pod && c.ContainerName == container)
            .OrderByDescending(c => c.Running).ThenByDescending(c => c.CreatedAt)
            .ToList();
        var current = all.FirstOrDefault();
        return (current, all.FirstOrDefault(c => !c.Running && c.PodUid == current?.PodUid));
    }
}
