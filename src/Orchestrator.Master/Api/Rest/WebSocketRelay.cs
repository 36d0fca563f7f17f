using System.Net.WebSockets;

namespace Orchestrator.Master.Api.Rest;

/// <summary>Copies messages from one WebSocket to another unchanged (type and fragmentation kept) until a close,
/// which it passes on. The exec and port-forward relays run one in each direction.</summary>
internal static class WebSocketRelay
{
    public static async Task CopyAsync(WebSocket from, WebSocket to, CancellationToken ct)
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
                await to.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, ct);
            }
        }
        catch (WebSocketException) { }
        catch (OperationCanceledException) { }
    }
}
