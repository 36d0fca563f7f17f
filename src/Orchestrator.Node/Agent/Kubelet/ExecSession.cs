using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Runtime;

using Orchestrator.Node.Agent.Kubelet.Spdy;

namespace Orchestrator.Node.Agent.Kubelet;

/// <summary>
/// /exec/{ns}/{pod}/{container}?command=…&amp;stdin&amp;tty over a WebSocket with Kubernetes' channel protocol
/// (v5.channel.k8s.io, v4, channel.k8s.io, or no subprotocol at all, as the kubelet's createWebSocketStreams takes
/// them): every binary message starts with its channel — 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize
/// ({"Width","Height"}); v5 adds 255, close: [255, channel] half-closes stdin. The error channel carries, at the end,
/// with v4 and v5 one Status JSON (Success, or Failure with reason NonZeroExitCode and the exit code as the ExitCode
/// cause); with the older two (the kubelet's v1WriteStatusFunc) a failure's message as text and nothing on success.
/// An <c>Upgrade: SPDY/3.1</c> goes to <see cref="SpdyContainerStreams"/>.
/// </summary>
internal static class ExecSession
{
    public static readonly string[] Protocols = ["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"];

    /// <summary>The subprotocol of the session as wsstream's handshake picks it: the first the client asks for that is
    /// served; "" (binary channels, the oldest status) when the client asks for none; null when none it asks for is
    /// served (base64.channel.k8s.io and v4.base64.channel.k8s.io are not).</summary>
    public static string? Negotiate(HttpContext context)
    {
        var requested = context.WebSockets.WebSocketRequestedProtocols;
        return requested.Count == 0 ? "" : requested.FirstOrDefault(Protocols.Contains);
    }

    /// <summary>Accepts the upgrade with <paramref name="protocol"/> (none for "").</summary>
    public static Task<WebSocket> AcceptAsync(HttpContext context, string protocol) =>
        context.WebSockets.AcceptWebSocketAsync(protocol.Length == 0 ? null : protocol);
    public const byte Stdin = 0, Stdout = 1, Stderr = 2, Error = 3, Resize = 4, Close = 255;

    public static async Task ServeAsync(HttpContext context, IContainerRuntime runtime, string ns, string pod, string container, ILogger log)
    {
        if (SpdyHandshake.IsSpdyUpgrade(context.Request))
        {
            await SpdyContainerStreams.ServeExecAsync(context, runtime, ns, pod, container, log);
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("exec needs a WebSocket upgrade with subprotocol v5.channel.k8s.io or v4.channel.k8s.io, or an Upgrade: SPDY/3.1");
            return;
        }
        var protocol = Negotiate(context);
        if (protocol is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"supported subprotocols: {string.Join(", ", Protocols)}");
            return;
        }
        var query = context.Request.Query;
        var command = query["command"].Where(c => c is not null).Select(c => c!).ToList();
        var stdin = query["stdin"] is var s && (s == "true" || s == "1");
        var tty = query["tty"] is var t && (t == "true" || t == "1");
        var ct = context.RequestAborted;

        using var socket = await AcceptAsync(context, protocol);
        var (current, _) = await KubeletServer.FindAsync(runtime, ns, pod, container, null, ct);
        if (current is not { Running: true } || command.Count == 0)
        {
            await FinishAsync(socket, Failure(command.Count == 0
                ? "you must specify at least one command for the container"
                : $"container {container} is not running", null), ct);
            return;
        }

        IExecSession session;
        try
        {
            session = await runtime.StartExecAsync(current.Id, new ExecStart(command, stdin, tty), ct);
        }
        catch (Exception e)
        {
            await FinishAsync(socket, Failure($"failed to exec in container: {e.Message}", null), ct);
            return;
        }
        using (session)
        {
            await CopyOutputAsync(socket, session, stdin, ct, log, async () =>
            {
                var exitCode = await session.ExitCodeAsync(ct);
                await FinishAsync(socket, exitCode == 0 ? Success() : Failure(
                    $"command terminated with non-zero exit code: error executing command [{string.Join(" ", command)}], exit code {exitCode}",
                    exitCode), ct);
            });
        }
    }

    /// <summary>Copies the session's output to the socket, each frame behind its channel, while the client's stdin and
    /// resize messages go to the session; when output ends, <paramref name="finish"/> sends the status. A client that
    /// leaves first ends the copy too: an attached process outlives its clients.</summary>
    internal static async Task CopyOutputAsync(WebSocket socket, IExecSession session, bool stdin, CancellationToken ct, ILogger log,
        Func<Task> finish)
    {
        // never cancelled: cancelling a WebSocket receive aborts the socket; it ends with the client's close
        var input = PumpInputAsync(socket, session, stdin, ct, log);
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _ = input.ContinueWith(_ => gone.Cancel(), TaskScheduler.Default);
        var buffer = new byte[32 * 1024];
        var frame = new byte[buffer.Length + 1];
        try
        {
            while (true)
            {
                var read = await session.ReadAsync(buffer, gone.Token);
                if (read.Eof) break;
                frame[0] = (byte)read.Stream;
                Buffer.BlockCopy(buffer, 0, frame, 1, read.Count);
                await socket.SendAsync(frame.AsMemory(0, read.Count + 1), WebSocketMessageType.Binary, true, ct);
            }
        }
        catch (Exception e) when (gone.IsCancellationRequested && !ct.IsCancellationRequested && e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            return; // the client closed: nobody to tell the status to
        }
        await finish();
        await Task.WhenAny(input, Task.Delay(TimeSpan.FromSeconds(2), ct));
    }

    private static async Task PumpInputAsync(WebSocket socket, IExecSession session, bool stdin, CancellationToken ct, ILogger log)
    {
        var buffer = new byte[32 * 1024];
        var message = new MemoryStream();
        while (socket.State is WebSocketState.Open or WebSocketState.CloseSent)
        {
            WebSocketReceiveResult received;
            try { received = await socket.ReceiveAsync(buffer, ct); }
            catch (WebSocketException) { return; }
            if (received.MessageType == WebSocketMessageType.Close) { if (stdin) session.CloseStdin(); return; }
            message.Write(buffer, 0, received.Count);
            if (!received.EndOfMessage) continue;
            var data = message.ToArray();
            message.SetLength(0);
            if (data.Length == 0) continue;
            switch (data[0])
            {
                case Stdin when stdin && data.Length > 1:
                    await session.WriteStdinAsync(data, 1, data.Length - 1, ct);
                    break;
                case Resize when data.Length > 1:
                    try
                    {
                        var size = JsonSerializer.Deserialize<TerminalSize>(data.AsSpan(1));
                        if (size is { Width: > 0, Height: > 0 }) await session.ResizeAsync(size.Width, size.Height, ct);
                    }
                    catch (Exception e) when (e is JsonException or InvalidOperationException) { log.LogDebug("bad resize message: {Message}", e.Message); }
                    break;
                case Close when data.Length > 1 && data[1] == Stdin:
                    if (stdin) session.CloseStdin();
                    break;
            }
        }
    }

    private sealed record TerminalSize(int Width, int Height);

    internal static string Success() => """{"metadata":{},"status":"Success"}""";

    internal static string Failure(string message, int? exitCode)
    {
        var status = new Dictionary<string, object?>
        {
            ["metadata"] = new Dictionary<string, object>(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = exitCode is null ? "InternalError" : "NonZeroExitCode",
        };
        if (exitCode is { } code)
            status["details"] = new { causes = new[] { new { reason = "ExitCode", message = code.ToString(System.Globalization.CultureInfo.InvariantCulture) } } };
        return JsonSerializer.Serialize(status);
    }

    internal static async Task FinishAsync(WebSocket socket, string statusJson, CancellationToken ct)
    {
        var bytes = socket.SubProtocol is "v5.channel.k8s.io" or "v4.channel.k8s.io"
            ? Encoding.UTF8.GetBytes(statusJson)
            : OldestStatus(statusJson);
        try
        {
            if (bytes.Length > 0)
            {
                var frame = new byte[bytes.Length + 1];
                frame[0] = Error;
                bytes.CopyTo(frame, 1);
                await socket.SendAsync(frame, WebSocketMessageType.Binary, true, ct);
            }
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct);
        }
        catch (WebSocketException) { }
    }

    /// <summary>The error channel's message before v4 (the kubelet's v1WriteStatusFunc): nothing on success, a failure's
    /// message as text.</summary>
    private static byte[] OldestStatus(string statusJson)
    {
        using var status = JsonDocument.Parse(statusJson);
        var root = status.RootElement;
        return root.GetProperty("status").GetString() == "Success"
            ? []
            : Encoding.UTF8.GetBytes(root.TryGetProperty("message", out var message) ? message.GetString() ?? "" : "");
    }
}
