using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using k8s.Models;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Discovery;

namespace Orchestrator.Master.Api.Webhooks;

/// <summary>
/// A TCP connection to a Service's endpoint for a webhook: the Service's port (by number) gives the port's name, the
/// Service's EndpointSlices a ready endpoint and its target port. An endpoint that is a pod is reached through its node's
/// kubelet endpoint — the port-forward WebSocket (v4.channel.k8s.io, the master's kubelet credential, the node's serving
/// certificate verified) — the way <see cref="PodPortForward"/> reaches pods; an endpoint without a pod (a Service without
/// selector) is dialled at its address. What is carried is the webhook's own TLS, end to end.
/// </summary>
internal sealed class PodTunnel(ObjectStoreClient store, KubeletConnection kubelet)
{
    private const string ChannelProtocol = "v4.channel.k8s.io";

    public async Task<Stream> OpenAsync(string ns, string name, int port, CancellationToken ct)
    {
        var service = await FindAsync(CoreResources.Services, ns, name, ct) as V1Service
                      ?? throw new WebhookCallException($"service \"{name}\" not found");
        var servicePort = service.Spec?.Ports?.FirstOrDefault(p => p.Port == port)
                          ?? throw new WebhookCallException($"service {ns}/{name}:{port} is not listening on port {port}");
        var slices = (await store.ListAsync(DiscoveryResources.EndpointSlices, ns, ct)).Items.OfType<V1EndpointSlice>()
            .Where(s => s.Metadata.Labels?.TryGetValue("kubernetes.io/service-name", out var owner) == true && owner == name);
        var candidates = new List<(V1Endpoint Endpoint, int Port)>();
        foreach (var slice in slices)
        {
            var slicePort = slice.Ports?.FirstOrDefault(p => (p.Name ?? "") == (servicePort.Name ?? ""));
            if (slicePort?.Port is not { } target) continue;
            candidates.AddRange((slice.Endpoints ?? []).Where(e => e.Conditions?.Ready != false && e.Addresses?.Count > 0).Select(e => (e, target)));
        }
        if (candidates.Count == 0) throw new WebhookCallException($"no endpoints available for service \"{name}\"");
        var (endpoint, targetPort) = candidates[Random.Shared.Next(candidates.Count)];
        if (endpoint.TargetRef is { Kind: "Pod" } pod) return await ThroughKubeletAsync(pod.NamespaceProperty ?? ns, pod.Name, targetPort, ct);
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(endpoint.Addresses[0], targetPort, ct);
            return tcp.GetStream();
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    private async Task<object?> FindAsync(Registry.Catalog.ResourceDescription resource, string ns, string name, CancellationToken ct)
    {
        try
        {
            return await store.GetAsync(resource, ns, name, ct);
        }
        catch (Http.ApiException e) when (e.Code == 404)
        {
            return null;
        }
    }

    private async Task<Stream> ThroughKubeletAsync(string ns, string podName, int port, CancellationToken ct)
    {
        var pod = await kubelet.GetPodAsync(ns, podName, ct);
        var (host, kubeletPort) = await kubelet.NodeEndpointAsync(pod, ct);
        var socket = new ClientWebSocket();
        kubelet.Secure(socket, pod.Spec.NodeName, host);
        socket.Options.AddSubProtocol(ChannelProtocol);
        var uri = new Uri($"wss://{host}:{kubeletPort}/portForward/{Uri.EscapeDataString(ns)}/{Uri.EscapeDataString(podName)}?port={port}");
        try
        {
            await socket.ConnectAsync(uri, ct);
        }
        catch (WebSocketException e)
        {
            socket.Dispose();
            throw new WebhookCallException($"the node {pod.Spec.NodeName} refused a connection to pod {ns}/{podName}:{port}: {kubelet.Why(pod.Spec.NodeName, host, e)}");
        }
        return new ChannelStream(socket);
    }
}

/// <summary>
/// One forwarded port of a v4.channel.k8s.io WebSocket as a stream: what is written goes out on data channel 0; what
/// comes in on channel 0 is read, channel 1 carries the node's error (a failed dial), and the first message of each
/// channel (the port, two bytes) is skipped.
/// </summary>
internal sealed class ChannelStream(WebSocket socket) : Stream
{
    private readonly byte[] _receive = new byte[64 * 1024 + 1];
    private ReadOnlyMemory<byte> _pending;
    private bool _dataPrefixSeen, _errorPrefixSeen, _ended;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        while (_pending.IsEmpty)
        {
            if (_ended) return 0;
            var (channel, data) = await ReceiveMessageAsync(ct);
            if (channel < 0)
            {
                _ended = true;
                return 0;
            }
            if (channel == 0)
            {
                if (!_dataPrefixSeen)
                {
                    _dataPrefixSeen = true;
                    data = data.Length >= 2 ? data[2..] : ReadOnlyMemory<byte>.Empty;
                }
                _pending = data;
            }
            else if (channel == 1)
            {
                if (!_errorPrefixSeen)
                {
                    _errorPrefixSeen = true;
                    data = data.Length >= 2 ? data[2..] : ReadOnlyMemory<byte>.Empty;
                }
                if (!data.IsEmpty) throw new IOException(Encoding.UTF8.GetString(data.Span));
            }
        }
        var n = Math.Min(buffer.Length, _pending.Length);
        _pending[..n].CopyTo(buffer);
        _pending = _pending[n..];
        return n;
    }

    /// <summary>One whole message: its channel (-1 when the socket closed) and its data (valid until the next receive).</summary>
    private async Task<(int Channel, ReadOnlyMemory<byte> Data)> ReceiveMessageAsync(CancellationToken ct)
    {
        var length = 0;
        while (true)
        {
            if (length == _receive.Length) throw new IOException("a port-forward message larger than 64 KiB");
            var result = await socket.ReceiveAsync(_receive.AsMemory(length), ct);
            if (result.MessageType == WebSocketMessageType.Close) return (-1, ReadOnlyMemory<byte>.Empty);
            length += result.Count;
            if (result.EndOfMessage) break;
        }
        return length == 0 ? (2, ReadOnlyMemory<byte>.Empty) : (_receive[0], _receive.AsMemory(1, length - 1));
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        var message = new byte[buffer.Length + 1];
        buffer.CopyTo(message.AsMemory(1));
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

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();
    public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
    public override void Flush() { }
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (socket.State == WebSocketState.Open)
            {
                try { socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).Wait(TimeSpan.FromSeconds(1)); }
                catch (Exception e) when (e is WebSocketException or AggregateException or ObjectDisposedException) { }
            }
            socket.Dispose();
            _sendLock.Dispose();
        }
        base.Dispose(disposing);
    }
}
