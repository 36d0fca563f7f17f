using k8s.Models;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Api.Http;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// <c>/api/v1/nodes/{name}/proxy/{path}</c>, Kubernetes' node proxy subresource: the request is relayed to the node's
/// kubelet endpoint (its InternalIP and status.daemonEndpoints.kubeletEndpoint.Port) with the master's kubelet
/// credential, and the answer streamed back. The dashboard reads the node proxies' traffic from
/// <c>nodes/{name}/proxy/metrics</c>. Only the kubelet endpoint is reachable (no <c>{name}:{port}</c> form) and
/// upgrades are refused, both with a Status naming what is served.
/// </summary>
internal sealed class NodeProxy(ObjectStoreClient store, KubeletConnection kubelet)
{
    // hop-by-hop headers (RFC 9110 §7.6.1) and the caller's credential never travel to the node
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Connection", "Keep-Alive", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Host", "Cookie",
    };

    public async Task HandleAsync(HttpContext context, string name, string path)
    {
        var ct = context.RequestAborted;
        if (name.Contains(':'))
            throw ApiException.BadRequest($"only the kubelet endpoint of a node is proxied (nodes/NAME/proxy/PATH), not \"{name}\"");
        if (context.Request.Headers.Upgrade.Count > 0)
            throw ApiException.BadRequest("upgrade requests are not served through nodes/proxy; use pods/exec, pods/attach or pods/portforward");
        var node = (V1Node)await store.GetAsync(CoreResources.Nodes, null, name, ct);
        var host = node.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address
                   ?? throw ApiException.Unavailable($"node {name} has no InternalIP address");
        var port = node.Status?.DaemonEndpoints?.KubeletEndpoint?.Port is > 0 and var p ? p : 10250;
        var target = new UriBuilder("https", host, port, "/" + path) { Query = context.Request.QueryString.Value?.TrimStart('?') ?? "" }.Uri;

        using var request = KubeletRelay.Request(context, target, NotForwarded.Contains);
        using var response = await KubeletRelay.SendAsync(kubelet, name, host, request, ct);
        await KubeletRelay.AnswerAsync(context, response, NotForwarded, adjust: null, ct);
    }
}
