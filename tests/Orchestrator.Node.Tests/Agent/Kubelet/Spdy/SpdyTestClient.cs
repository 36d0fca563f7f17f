using System.Buffers.Binary;
using System.Net;
using System.Net.WebSockets;
using System.Net.Sockets;
using System.Text;
using Orchestrator.Node.Agent.Kubelet.Spdy;

namespace Orchestrator.Node.Tests.Agent.Kubelet.Spdy;

/// <summary>kubectl's side of a port-forward connection, as far as the tests need it: opens error/data stream
/// pairs, sends data, reads what the server sends.</summary>
internal sealed class SpdyTestClient(Stream stream) : IDisposable
{
    private readonly HeaderBlockEncoder _headers = new();
    private readonly SpdyFrameReader _reader = new(stream);

    public static byte[] SynStream(uint streamId, byte[] headerBlock)
    {
        var frame = new byte[18 + headerBlock.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, 0x80000000u | (3u << 16) | SpdyFrameType.SynStream);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)(10 + headerBlock.Length));
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), streamId);
        headerBlock.CopyTo(frame, 18);
        return frame;
    }

    /// <summary>A stream as client-go's SPDY executor opens one: its type in the streamType header.</summary>
    public Task OpenStreamAsync(uint streamId, string type) =>
        SendAsync(SynStream(streamId, _headers.Encode([new("streamType", type)])));

    public async Task OpenAsync(uint streamId, string type, int port, string requestId)
    {
        var block = _headers.Encode([new("streamType", type), new("port", port.ToString()), new("requestID", requestId)]);
        await SendAsync(SynStream(streamId, block));
    }

    /// <summary>Opens the error stream (and closes its half at once, as kubectl does) and the data stream.</summary>
    public async Task OpenPairAsync(uint errorStream, int port, string requestId)
    {
        await OpenAsync(errorStream, "error", port, requestId);
        await SendAsync(SpdyFrameWriter.Data(errorStream, [], fin: true));
        await OpenAsync(errorStream + 2, "data", port, requestId);
    }

    public Task SendDataAsync(uint streamId, string text, bool fin = false) =>
        SendAsync(SpdyFrameWriter.Data(streamId, Encoding.UTF8.GetBytes(text), fin));

    public async Task SendAsync(byte[] frame)
    {
        await stream.WriteAsync(frame);
        await stream.FlushAsync();
    }

    public async Task<SpdyFrame> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _reader.ReadAsync(timeout.Token) ?? throw new EndOfStreamException("the server closed the connection");
    }

    /// <summary>Reads until the stream has sent FIN; returns its bytes. Frames of other streams are kept for later.</summary>
    public async Task<string> ReadStreamAsync(uint streamId, List<SpdyFrame>? others = null)
    {
        var text = new StringBuilder();
        while (true)
        {
            var frame = await NextAsync();
            if (frame is DataFrame data && data.StreamId == streamId)
            {
                text.Append(Encoding.UTF8.GetString(data.Data));
                if (data.Fin) return text.ToString();
            }
            else others?.Add(frame);
        }
    }

    public void Dispose() => _reader.Dispose();

    /// <summary>Two ends of a loopback TCP connection: a duplex byte stream for server and client.</summary>
    public static async Task<(NetworkStream Server, NetworkStream Client)> ConnectedPairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        var accept = listener.AcceptTcpClientAsync();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var server = await accept;
        return (server.GetStream(), client.GetStream());
    }
}

/// <summary>A pod port on loopback: answers each connection with a greeting, then echoes upper-cased until the
/// client half-closes, then closes.</summary>
internal sealed class EchoServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    public int Connections;

    public EchoServer(string greeting = "")
    {
        _listener.Start();
        _accepting = AcceptAsync(greeting);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptAsync(string greeting)
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                Interlocked.Increment(ref Connections);
                _ = ServeAsync(socket, greeting);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException) { }
    }

    private static async Task ServeAsync(Socket socket, string greeting)
    {
        using (socket)
        {
            if (greeting.Length > 0) await socket.SendAsync(Encoding.UTF8.GetBytes(greeting));
            var buffer = new byte[4096];
            int n;
            while ((n = await socket.ReceiveAsync(buffer)) > 0)
                await socket.SendAsync(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(buffer, 0, n).ToUpperInvariant()));
            socket.Shutdown(SocketShutdown.Both);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
    }
}

/// <summary>
/// A WebSocket client handshake written by hand, as kubectl sends it: .NET's ClientWebSocket refuses the
/// subprotocol <c>SPDY/3.1+portforward.k8s.io</c> ('/' is not a token character), Go's client does not.
/// </summary>
internal static class RawWebSocket
{
    /// <summary>Over TLS with <paramref name="clientCertificate"/> (the kubelet endpoint's listener); the server's
    /// certificate is not checked here.</summary>
    public static async Task<(WebSocket? Socket, string Response)> ConnectAsync(int port, string path, string? protocol,
        System.Security.Cryptography.X509Certificates.X509Certificate2 clientCertificate)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await stream.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            ClientCertificates = [clientCertificate],
        });
        var request = new StringBuilder()
            .Append($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
            .Append($"Sec-WebSocket-Key: {Convert.ToBase64String(Guid.NewGuid().ToByteArray())}\r\nSec-WebSocket-Version: 13\r\n");
        if (protocol is not null) request.Append($"Sec-WebSocket-Protocol: {protocol}\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.Append("\r\n").ToString()));

        // the response head, byte by byte so nothing after it is consumed
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one) == 0) break;
            head.Append((char)one[0]);
        }
        var response = head.ToString();
        if (!response.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            var rest = new byte[4096];
            var n = await stream.ReadAtLeastAsync(rest, 1, throwOnEndOfStream: false);
            tcp.Dispose();
            return (null, response + Encoding.UTF8.GetString(rest, 0, n));
        }
        return (WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false }), response);
    }
}
