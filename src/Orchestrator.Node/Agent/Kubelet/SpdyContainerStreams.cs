using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Agent.Kubelet.Spdy;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent.Kubelet;

/// <summary>
/// exec and attach on a plain HTTP/1.1 <c>Upgrade: SPDY/3.1</c> (the fallback of clients without WebSockets), as the
/// kubelet serves them: the request names its streams in the query (stdin, stdout, stderr, tty), the protocol is
/// negotiated from <c>X-Stream-Protocol-Version</c> (403 with the accepted ones when none fits), then the connection
/// switches and <see cref="SpdyRemoteCommand"/> carries the session.
/// </summary>
internal static class SpdyContainerStreams
{
    private const string AcceptedHeader = "X-Accepted-Stream-Protocol-Versions";
    /// <summary>The kubelet's stream creation timeout.</summary>
    private static readonly TimeSpan StreamCreationTimeout = TimeSpan.FromSeconds(30);

    public static async Task ServeExecAsync(HttpContext context, IContainerRuntime runtime, string ns, string pod, string container, ILogger log)
    {
        var command = context.Request.Query["command"].Where(c => c is not null).Select(c => c!).ToList();
        await ServeAsync(context, runtime, ns, pod, container, log, async (current, wanted, ct) =>
        {
            if (command.Count == 0) return new Started(null, Failure("you must specify at least one command for the container", null));
            var session = await runtime.StartExecAsync(current.Id, new ExecStart(command, wanted.Stdin, wanted.Tty), ct);
            return new Started(session, null, async () =>
            {
                var exitCode = await session.ExitCodeAsync(ct);
                return exitCode == 0 ? Success() : Failure(
                    $"command terminated with non-zero exit code: error executing command [{string.Join(" ", command)}], exit code {exitCode}", exitCode);
            });
        }, "exec in");
    }

    public static Task ServeAttachAsync(HttpContext context, IContainerRuntime runtime, string ns, string pod, string container, ILogger log) =>
        ServeAsync(context, runtime, ns, pod, container, log, async (current, wanted, ct) =>
        {
            var session = await runtime.AttachAsync(current.Id, wanted.Stdin, ct);
            // as the kubelet's attach: the process's exit code is the container's status, not the session's
            return new Started(session, null, () => Task.FromResult(Success()));
        }, "attach to");

    /// <summary>A started session and how to tell its outcome, or the outcome of a refusal before any start.</summary>
    private sealed record Started(IExecSession? Session, RemoteCommandOutcome? Refused, Func<Task<RemoteCommandOutcome>>? Outcome = null);

    private static async Task ServeAsync(HttpContext context, IContainerRuntime runtime, string ns, string pod, string container, ILogger log,
        Func<RuntimeContainer, RemoteCommandStreams, CancellationToken, Task<Started>> start, string verb)
    {
        var ct = context.RequestAborted;
        var query = context.Request.Query;
        bool Flag(string key) => query[key] is var v && (v == "true" || v == "1");
        var tty = Flag("tty");
        var wanted = new RemoteCommandStreams(Flag("stdin"), Flag("stdout"), Flag("stderr") && !tty, tty);
        if (!wanted.Stdin && !wanted.Stdout && !wanted.Stderr)
        {
            await Refuse(context, StatusCodes.Status400BadRequest, "you must specify at least 1 of stdin, stdout, stderr");
            return;
        }
        var offered = SpdyHandshake.OfferedProtocols(context.Request);
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (offered.Count == 0 || upgrade is not { IsUpgradableRequest: true })
        {
            await Refuse(context, StatusCodes.Status400BadRequest, $"unable to upgrade: {SpdyHandshake.ProtocolHeader} is required");
            return;
        }
        var protocol = offered.FirstOrDefault(SpdyRemoteCommand.Protocols.Contains);
        if (protocol is null)
        {
            foreach (var accepted in SpdyRemoteCommand.Protocols) context.Response.Headers.Append(AcceptedHeader, accepted);
            await Refuse(context, StatusCodes.Status403Forbidden,
                $"unable to upgrade: unable to negotiate protocol: client supports [{string.Join(" ", offered)}], server accepts [{string.Join(" ", SpdyRemoteCommand.Protocols)}]");
            return;
        }

        await using var transport = await SpdyHandshake.SwitchAsync(context, upgrade, protocol);
        var spdy = new SpdyRemoteCommand(transport, protocol, wanted, log);
        if (!await spdy.AcceptStreamsAsync(StreamCreationTimeout, ct)) return;

        var (current, _) = await KubeletServer.FindAsync(runtime, ns, pod, container, null, ct);
        if (current is not { Running: true })
        {
            await spdy.FinishAsync(Failure($"container {container} is not running", null), ct);
            return;
        }
        Started started;
        try
        {
            started = await start(current, wanted, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await spdy.FinishAsync(Failure($"failed to {verb} container: {e.Message}", null), ct);
            return;
        }
        if (started is not { Session: { } session, Outcome: { } outcome })
        {
            await spdy.FinishAsync(started.Refused!, ct);
            return;
        }
        using (session)
            await spdy.RunAsync(session, outcome, ct);
        log.LogDebug("SPDY {Verb} {Namespace}/{Pod}/{Container} ended", verb, ns, pod, container);
    }

    private static RemoteCommandOutcome Success() => new(ExecSession.Success(), null);

    private static RemoteCommandOutcome Failure(string message, int? exitCode) => new(ExecSession.Failure(message, exitCode), message);

    private static async Task Refuse(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }
}
