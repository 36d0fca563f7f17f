using System.Net.Http.Headers;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>The token the master presents to nodes' kubelet endpoints (the API's own token; nodes read the same file).</summary>
internal sealed record KubeletCredentials(string Token);

/// <summary>
/// Finds the kubelet endpoint of the node that runs a pod — the node's InternalIP and
/// status.daemonEndpoints.kubeletEndpoint.Port — and the container a request means, with the API server's
/// errors for a pod without a node or an ambiguous container. Used by the log, exec and port-forward relays.
/// </summary>
internal sealed class KubeletConnection(ObjectStoreClient store, KubeletCredentials credentials, KubeletTimeouts timeouts)
{
    /// <summary>The client for node requests: connecting is bounded here, the rest by the callers
    /// (<see cref="KubeletTimeouts"/>).</summary>
    public HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = timeouts.Connect })
        { Timeout = Timeout.InfiniteTimeSpan };

    public KubeletTimeouts Timeouts => timeouts;

    /// <summary>What a node that does not answer in time gets as a Status.</summary>
    public ApiException NoAnswer(string? node, string what) =>
        ApiException.Timeout($"the node {node} did not answer {what} within {KubeletTimeouts.Seconds(timeouts.Response)}");

    public string Token => credentials.Token;

    public sealed record Target(V1Pod Pod, string Container, string Host, int Port)
    {
        public string Path(string endpoint) =>
            $"/{endpoint}/{Uri.EscapeDataString(Pod.Metadata.NamespaceProperty ?? "default")}/{Uri.EscapeDataString(Pod.Metadata.Name)}/{Uri.EscapeDataString(Container)}";
    }

    public async Task<Target> ResolveAsync(string ns, string name, string? container, CancellationToken ct)
    {
        var pod = (V1Pod)await store.GetAsync(ApiResources.Pods, ns, name, ct);
        var names = pod.Spec.Containers.Select(c => c.Name).Concat((pod.Spec.InitContainers ?? []).Select(c => c.Name)).ToList();
        if (string.IsNullOrEmpty(container))
        {
            if (pod.Spec.Containers.Count == 1) container = pod.Spec.Containers[0].Name;
            else if (pod.Metadata.Annotations?.TryGetValue("kubectl.kubernetes.io/default-container", out var annotated) == true)
                container = annotated;
            else
                throw ApiException.BadRequest(
                    $"a container name must be specified for pod {name}, choose one of: [{string.Join(" ", pod.Spec.Containers.Select(c => c.Name))}]");
        }
        if (!names.Contains(container))
            throw ApiException.BadRequest($"container {container} is not valid for pod {name}");
        var (host, port) = await NodeEndpointAsync(pod, ct);
        return new Target(pod, container, host, port);
    }

    public async Task<V1Pod> GetPodAsync(string ns, string name, CancellationToken ct) =>
        (V1Pod)await store.GetAsync(ApiResources.Pods, ns, name, ct);

    /// <summary>The kubelet endpoint of the pod's node, for requests about the whole pod (port forwarding).</summary>
    public async Task<(string Host, int Port)> NodeEndpointAsync(V1Pod pod, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(pod.Spec.NodeName))
            throw ApiException.BadRequest($"pod {pod.Metadata.Name} does not have a host assigned");
        var node = (V1Node)await store.GetAsync(ApiResources.Nodes, null, pod.Spec.NodeName, ct);
        var host = node.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address
                   ?? throw ApiException.Unavailable($"node {pod.Spec.NodeName} has no InternalIP address");
        var port = node.Status?.DaemonEndpoints?.KubeletEndpoint?.Port is > 0 and var p ? p : 10250;
        return (host, port);
    }

    public AuthenticationHeaderValue Authorization => new("Bearer", credentials.Token);
}
