using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Shared.Api;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Api.Rest;

/// <summary>The kubelet CA: the master's client certificate comes from it, and every node's serving certificate must.</summary>
internal sealed record KubeletCredentials(KubeletCertificateAuthority Ca);

/// <summary>
/// Finds the kubelet endpoint of the node that runs a pod — the node's InternalIP and
/// status.daemonEndpoints.kubeletEndpoint.Port — and the container a request means, with the API server's
/// errors for a pod without a node or an ambiguous container; and connects to it over TLS. The master presents its
/// kubelet client certificate only to an endpoint whose certificate the kubelet CA issued to the pod's node
/// (<c>system:node:NAME</c>) for the address dialled (<see cref="KubeletTls.CheckServing"/>); the Node's reported address
/// alone cannot point the master's credentials anywhere else. Used by the log, exec and port-forward relays.
/// </summary>
internal sealed class KubeletConnection(ObjectStoreClient store, KubeletCredentials credentials, KubeletTimeouts timeouts,
    ILogger<KubeletConnection> log)
{
    private const int MaxClients = 512;
    /// <summary>One HTTP client per (node, address): its pooled connections were each verified for exactly that pair.</summary>
    private readonly ConcurrentDictionary<(string Node, string Host, bool Unverified), HttpClient> _clients = new();
    /// <summary>The last refusal per (node, address), to say why in the API's answer.</summary>
    private readonly ConcurrentDictionary<(string Node, string Host), string> _refusals = new();

    public KubeletTimeouts Timeouts => timeouts;

    /// <summary>What a node that does not answer in time gets as a Status.</summary>
    public ApiException NoAnswer(string? node, string what) =>
        ApiException.Timeout($"the node {node} did not answer {what} within {KubeletTimeouts.Seconds(timeouts.Response)}");

    public sealed record Target(V1Pod Pod, string Container, string Host, int Port)
    {
        public string Path(string endpoint) =>
            $"/{endpoint}/{Uri.EscapeDataString(Pod.Metadata.NamespaceProperty ?? "default")}/{Uri.EscapeDataString(Pod.Metadata.Name)}/{Uri.EscapeDataString(Container)}";
    }

    public async Task<Target> ResolveAsync(string ns, string name, string? container, CancellationToken ct)
    {
        var pod = (V1Pod)await store.GetAsync(CoreResources.Pods, ns, name, ct);
        container = ContainerOf(pod, container);
        var (host, port) = await NodeEndpointAsync(pod, ct);
        return new Target(pod, container, host, port);
    }

    /// <summary>The container a request about <paramref name="pod"/> means, as kube-apiserver's validateContainer: the
    /// one named (any init, app or ephemeral container), or the only app container. The default-container annotation is
    /// kubectl's, read on its side; the API server does not read it.</summary>
    public static string ContainerOf(V1Pod pod, string? container)
    {
        var name = pod.Metadata.Name;
        var all = (pod.Spec.InitContainers ?? []).Select(c => c.Name).Concat(pod.Spec.Containers.Select(c => c.Name))
            .Concat((pod.Spec.EphemeralContainers ?? []).Select(c => c.Name));
        if (!string.IsNullOrEmpty(container))
            return all.Contains(container) ? container : throw ApiException.BadRequest($"container {container} is not valid for pod {name}");
        return pod.Spec.Containers.Count switch
        {
            1 => pod.Spec.Containers[0].Name,
            0 => throw ApiException.BadRequest($"a container name must be specified for pod {name}"),
            _ => throw ApiException.BadRequest($"a container name must be specified for pod {name}, choose one of: [{string.Join(" ", all)}]"),
        };
    }

    public async Task<V1Pod> GetPodAsync(string ns, string name, CancellationToken ct) =>
        (V1Pod)await store.GetAsync(CoreResources.Pods, ns, name, ct);

    /// <summary>The kubelet endpoint of the pod's node, for requests about the whole pod (port forwarding).</summary>
    public async Task<(string Host, int Port)> NodeEndpointAsync(V1Pod pod, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(pod.Spec.NodeName))
            throw ApiException.BadRequest($"pod {pod.Metadata.Name} does not have a host assigned");
        return await NodeEndpointAsync(pod.Spec.NodeName, ct);
    }

    /// <summary>The kubelet endpoint of node <paramref name="nodeName"/>.</summary>
    public async Task<(string Host, int Port)> NodeEndpointAsync(string nodeName, CancellationToken ct)
    {
        var node = (V1Node)await store.GetAsync(CoreResources.Nodes, null, nodeName, ct);
        var host = node.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address
                   ?? throw ApiException.Unavailable($"node {nodeName} has no InternalIP address");
        var port = node.Status?.DaemonEndpoints?.KubeletEndpoint?.Port is > 0 and var p ? p : 10250;
        return (host, port);
    }

    /// <summary>The HTTP client for node <paramref name="nodeName"/>'s kubelet endpoint at <paramref name="host"/> (https only).</summary>
    public HttpClient Http(string nodeName, string host, bool skipServerVerification = false)
    {
        var key = (nodeName, host, skipServerVerification);
        if (_clients.TryGetValue(key, out var client)) return client;
        if (_clients.Count >= MaxClients) _clients.Clear(); // addresses come and go; idle clients close their connections
        return _clients.GetOrAdd(key, k => new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = timeouts.Connect, // connecting is bounded here, the rest by the callers (KubeletTimeouts)
            SslOptions = ClientOptions(k.Node, k.Host, k.Unverified),
        }) { Timeout = Timeout.InfiniteTimeSpan });
    }

    /// <summary>Client certificate and server check for a WebSocket to node <paramref name="nodeName"/> at <paramref name="host"/> (wss only).</summary>
    public void Secure(ClientWebSocket socket, string nodeName, string host)
    {
        socket.Options.Proxy = null;
        socket.Options.ClientCertificates = [credentials.Ca.ClientCertificate()];
        socket.Options.RemoteCertificateValidationCallback = Verifier(nodeName, host);
    }

    /// <summary>A TLS stream to node <paramref name="nodeName"/>'s kubelet endpoint (for the SPDY upgrade); throws
    /// <see cref="SocketException"/>, <see cref="AuthenticationException"/> or <see cref="IOException"/>.</summary>
    public async Task<Stream> ConnectAsync(string nodeName, string host, int port, CancellationToken ct)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(host, port, ct);
            var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(ClientOptions(nodeName, host), ct);
            return tls;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Why a connection to node <paramref name="nodeName"/> failed: the certificate refusal when there was one.</summary>
    public string Why(string nodeName, string host, Exception e) =>
        _refusals.TryGetValue((nodeName, host), out var refusal) && HasAuthenticationFailure(e)
            ? $"its kubelet endpoint at {host} is not node {nodeName}'s: {refusal}"
            : e.Message;

    private static bool HasAuthenticationFailure(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is AuthenticationException) return true;
        return false;
    }

    private SslClientAuthenticationOptions ClientOptions(string node, string host, bool unverified = false) => new()
    {
        TargetHost = host,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        LocalCertificateSelectionCallback = (_, _, _, _, _) => credentials.Ca.ClientCertificate(),
        // insecureSkipTLSVerifyBackend (pod logs only, as kube-apiserver): the caller chose to read logs from a kubelet
        // whose serving certificate does not check out; the request carries no secret (a client certificate proves
        // nothing without its key), only what comes back is unverified
        RemoteCertificateValidationCallback = unverified ? (_, _, _, _) => true : Verifier(node, host),
    };

    private RemoteCertificateValidationCallback Verifier(string node, string host) => (_, certificate, _, _) =>
    {
        using var presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var refused = KubeletTls.CheckServing(presented, credentials.Ca.Certificate, node, host);
        if (refused is null)
        {
            _refusals.TryRemove((node, host), out _);
            return true;
        }
        if (_refusals.Count >= MaxClients) _refusals.Clear();
        _refusals[(node, host)] = refused;
        log.LogWarning("Refused the kubelet endpoint at {Host} for node {Node}: {Reason}", host, node, refused);
        return false;
    };
}
