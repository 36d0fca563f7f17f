using System.Buffers.Binary;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Agent.Kubelet;

/// <summary>
/// Port forwarding over Kubernetes' WebSocket channel protocol (v4.channel.k8s.io), which clients other than kubectl
/// use (the C# and Python clients): the ports come in the query, each one gets a data channel (2i) and an error
/// channel (2i+1), and every message starts with its channel. The first message on each channel is the port as a
/// little-endian 16-bit number. One WebSocket is one connection to each port; it ends when every port's connection
/// has ended or the client leaves.
/// </summary>
internal sealed class ChannelPortForwarder(WebSocket socket, IReadOnlyList<int> ports, Func<int, CancellationToken, Task<Socket>> dial, string podName, ILogger log)
{
    public const string Protocol = "v4.channel.k8s.io";
    private const int ChunkSize = 32 * 1024;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    /// <summary>Each port's connection once dialled (null if that failed): client data waits for it.</summary>
    private readonly TaskCompletionSource<Socket?>[] _connections =
        Enumerable.Range(0, ports.Count).Select(_ => new TaskCompletionSource<Socket?>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();

    /// <summary>The ports of the <c>port</c> query (repeated or comma-separated), or why they are unusable.</summary>
    public static (IReadOnlyList<int> Ports, string? Error) ParsePorts(IEnumerable<string?> values)
    {
        var ports = new List<int>();
        foreach (var value in values)
        {
            foreach (var text in (value ?? "").Split(','))
            {
                if (!ushort.TryParse(text, out var port) || port == 0)
                    return ([], $"unable to parse \"{value}\" as a port");
                ports.Add(port);
            }
        }
        return ports.Count == 0 ? ([], "query parameter \"port\" is required") : (ports, null);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            for (var i = 0; i < ports.Count; i++)
            {
                var prefix = new byte[2];
                BinaryPrimitives.WriteUInt16LittleEndian(prefix, (ushort)ports[i]);
                await SendAsync(DataChannel(i), prefix, session.Token);
                await SendAsync(ErrorChannel(i), prefix, session.Token);
            }
            var forwards = Enumerable.Range(0, ports.Count).Select(i => ForwardAsync(i, session.Token)).ToList();
            var reading = ReadFromClientAsync(session.Token);
            var all = Task.WhenAll(forwards);
            if (await Task.WhenAny(all, reading) == all)
            {
                // every pod connection ended: say so, and give the client a moment to answer the close
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct);
                await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(2), ct));
            }
            await session.CancelAsync();
            await all;
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException) { }
        finally
        {
            foreach (var connection in _connections)
            {
                connection.TrySetResult(null);
                (await connection.Task)?.Dispose();
            }
        }
    }

    private static byte DataChannel(int index) => (byte)(index * 2);
    private static byte ErrorChannel(int index) => (byte)(index * 2 + 1);

    private async Task ForwardAsync(int index, CancellationToken ct)
    {
        try
        {
            Socket connection;
            try
            {
                connection = await dial(ports[index], ct);
            }
            catch
            {
                _connections[index].TrySetResult(null);
                throw;
            }
            _connections[index].TrySetResult(connection);
            var buffer = new byte[ChunkSize];
            while (true)
            {
                var n = await connection.ReceiveAsync(buffer, SocketFlags.None, ct);
                if (n == 0) return;
                await SendAsync(DataChannel(index), buffer.AsMemory(0, n), ct);
            }
        }
        catch (SocketException e) when (!ct.IsCancellationRequested)
        {
            var message = $"error forwarding port {ports[index]} to pod {podName}: {e.Message}";
            log.LogInformation("port-forward: {Message}", message);
            await SendAsync(ErrorChannel(index), Encoding.UTF8.GetBytes(message), ct);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException) { }
    }

    /// <summary>Client messages on a data channel go to that port's connection; a message may come in fragments,
    /// only the first carries the channel.</summary>
    private async Task ReadFromClientAsync(CancellationToken ct)
    {
        var buffer = new byte[ChunkSize + 1];
        int? channel = null;
        while (true)
        {
            WebSocketReceiveResult received;
            try { received = await socket.ReceiveAsync(buffer, ct); }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException) { return; }
            if (received.MessageType == WebSocketMessageType.Close) return;
            var data = buffer.AsMemory(0, received.Count);
            if (channel is null && data.Length > 0)
            {
                channel = data.Span[0];
                data = data[1..];
            }
            if (channel is { } c && c % 2 == 0 && c / 2 < ports.Count && data.Length > 0 && await _connections[c / 2].Task is { } connection)
            {
                try { await connection.SendAsync(data, SocketFlags.None, ct); }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            }
            if (received.EndOfMessage) channel = null;
        }
    }

    private async Task SendAsync(byte channel, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var message = new byte[data.Length + 1];
        message[0] = channel;
        data.CopyTo(message.AsMemory(1));
        await _sendLock.WaitAsync(ct);
        try
        {
            await socket.SendAsync(message, WebSocketMessageType.Binary, true, ct);
        }
        finally
        {
            _sendLock.Release();
        }
    }
}
