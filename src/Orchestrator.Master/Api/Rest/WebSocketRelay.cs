using System.Net.WebSockets;

namespace Orchestrator.Master.Api.Rest;

/// <summary>Copies messages from one WebSocket to another unchanged (type and fragmentation kept) until a close,
/// which it passes on. The exec and port-forward relays run one in each direction, sharing one
/// <see cref="IdleTimeout"/> that every message restarts.</summary>
internal static class WebSocketRelay
{
    /// <summary>Both directions until either ends (the other then has <paramref name="grace"/> to finish) or nothing
    /// passed either way for the idle timeout.</summary>
    public static async Task RelayAsync(WebSocket node, WebSocket client, TimeSpan idleTimeout, TimeSpan grace, bool nodeEnds,
        CancellationToken ct)
    {
        using var idle = new IdleTimeout(idleTimeout, ct);
        var fromNode = CopyAsync(node, client, idle.Token, idle);
        var fromClient = CopyAsync(client, node, idle.Token, idle);
        Task first;
        if (nodeEnds)
        {
            await fromNode; // the node ends the session (exec: after the status on the error channel)
            first = fromNode;
        }
        else
        {
            first = await Task.WhenAny(fromNode, fromClient);
        }
        try
        {
            await (first == fromNode ? fromClient : fromNode).WaitAsync(grace, idle.Token);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // the other side did not follow in time: the session is over anyway
        }
    }

    public static async Task CopyAsync(WebSocket from, WebSocket to, CancellationToken ct, IdleTimeout? idle = null)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var received = await from.ReceiveAsync(buffer, ct);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    if (to.State is WebSocketState.Open or WebSocketState.CloseReceived)
                        await to.CloseOutputAsync(received.CloseStatus ?? WebSocketCloseStatus.NormalClosure, received.CloseStatusDescription, ct);
                    return;
                }
                idle?.Touch();
                await to.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, ct);
            }
        }
        catch (WebSocketException) { }
        catch (OperationCanceledException) { }
    }
}
