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
/// <c>nodes/{name}/proxy/metrics</c>. Only the kubelet endpoint is reachable (no <c>{name}:{port}</c> form; a Status
/// says so). An upgrade is relayed as kube's UpgradeAwareHandler relays it (<see cref="KubeletRelay.UpgradeAsync"/>),
/// to the path without the query, as kube 1.32 does (kubernetes#77142).
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
        var node = (V1Node)await store.GetAsync(CoreResources.Nodes, null, name, ct);
        var host = node.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address
                   ?? throw ApiException.Unavailable($"node {name} has no InternalIP address");
        var port = node.Status?.DaemonEndpoints?.KubeletEndpoint?.Port is > 0 and var p ? p : 10250;
        var upgrading = KubeletRelay.IsUpgradeRequest(context.Request);
        var query = upgrading ? "" : context.Request.QueryString.Value?.TrimStart('?') ?? "";
        var target = new UriBuilder("https", host, port, "/" + path) { Query = query }.Uri;

        using var request = KubeletRelay.Request(context, target, NotForwarded.Contains);
        KubeletRelay.AppendForwardedFor(context, request);
        if (upgrading)
        {
            await KubeletRelay.UpgradeAsync(context, kubelet, name, host, request, NotForwarded, adjust: null, ct);
            return;
        }
        using var response = await KubeletRelay.SendAsync(kubelet, name, host, request, ct);
        await KubeletRelay.AnswerAsync(context, response, NotForwarded, adjust: null, ct);
    }
}
