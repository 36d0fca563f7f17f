using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Runtime;

using Orchestrator.Node.Agent.Kubelet.Spdy;

namespace Orchestrator.Node.Agent.Kubelet;

/// <summary>
/// /attach/{ns}/{pod}/{container}?stdin&amp;stdout&amp;stderr&amp;tty — the container's main process, over the same
/// WebSocket channel protocol as exec (<see cref="ExecSession"/>). As the kubelet's attach, the error channel carries
/// Success when the process's output ends (the exit code is the container's status, not the session's), and a
/// failure only when the container cannot be attached. An <c>Upgrade: SPDY/3.1</c> goes to <see cref="SpdyContainerStreams"/>.
/// </summary>
internal static class AttachSession
{
    public static async Task ServeAsync(HttpContext context, IContainerRuntime runtime, string ns, string pod, string container, ILogger log)
    {
        if (SpdyHandshake.IsSpdyUpgrade(context.Request))
        {
            await SpdyContainerStreams.ServeAttachAsync(context, runtime, ns, pod, container, log);
            return;
        }
        var protocol = context.WebSockets.IsWebSocketRequest ? ExecSession.Negotiate(context) : null;
        if (protocol is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"attach needs a WebSocket upgrade with subprotocol {string.Join(" or ", ExecSession.Protocols)}");
            return;
        }
        var query = context.Request.Query;
        var stdin = query["stdin"] is var s && (s == "true" || s == "1");
        var ct = context.RequestAborted;

        using var socket = await ExecSession.AcceptAsync(context, protocol);
        var (current, _) = await KubeletServer.FindAsync(runtime, ns, pod, container, null, ct);
        if (current is not { Running: true })
        {
            await ExecSession.FinishAsync(socket, ExecSession.Failure($"container not found (\"{container}\")", null), ct);
            return;
        }
        IExecSession session;
        try
        {
            session = await runtime.AttachAsync(current.Id, stdin, ct);
        }
        catch (Exception e)
        {
            await ExecSession.FinishAsync(socket, ExecSession.Failure($"failed to attach to container: {e.Message}", null), ct);
            return;
        }
        using (session)
            await ExecSession.CopyOutputAsync(socket, session, stdin, ct, log, () => ExecSession.FinishAsync(socket, ExecSession.Success(), ct));
        log.LogDebug("attach to {Namespace}/{Pod}/{Container} ended", ns, pod, container);
    }
}
