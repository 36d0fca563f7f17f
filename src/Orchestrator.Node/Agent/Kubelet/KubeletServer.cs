using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent.Kubelet;

/// <summary>Where the node serves its kubelet API: the node's address and a port published in the Node's
/// status.daemonEndpoints.kubeletEndpoint, and the shared secret every request must carry.</summary>
internal sealed record KubeletEndpointOptions(IPEndPoint EndPoint, string? Token);

/// <summary>
/// The node's kubelet API, the part the master relays to: <c>GET /containerLogs/{ns}/{pod}/{container}</c>
/// (kubectl logs), <c>/exec/{ns}/{pod}/{container}</c> (kubectl exec, WebSocket channel protocol) and
/// <c>/portForward/{ns}/{pod}</c> (kubectl port-forward: SPDY in a WebSocket or on an upgraded connection, or the
/// WebSocket channel protocol) and <c>/metrics</c>. It listens
/// only on the node's address, and every request must carry <c>Authorization: Bearer {token}</c> — the API's token,
/// which the master sends and the node reads from <c>--kubelet-token-file</c>; without a token file it refuses all.
/// </summary>
internal static class KubeletServer
{
    public static WebApplication UseKubeletApi(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<KubeletEndpointOptions>();
        var runtime = app.Services.GetRequiredService<IContainerRuntime>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Orchestrator.Node.Kubelet");
        var expected = options.Token is null ? null : Encoding.UTF8.GetBytes("Bearer " + options.Token);
        app.UseWebSockets();
        app.Use(async (context, next) =>
        {
            if (context.Connection.LocalPort != options.EndPoint.Port)
            {
                await next();
                return;
            }
            var presented = Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString());
            if (expected is null || !CryptographicOperations.FixedTimeEquals(presented, expected))
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
                    case ["portForward", var ns, var pod]:
                        await PortForwardSession.ServeAsync(context, runtime, ns, pod, log);
                        break;
                    case ["metrics"] when HttpMethods.IsGet(context.Request.Method):
                        // the node's metrics (proxy traffic per endpoint among them), which the master relays as nodes/{name}/proxy/metrics
                        await Diagnostics.NodeMetrics.WriteAsync(context);
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
