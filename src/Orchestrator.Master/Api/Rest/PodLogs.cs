using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// GET /api/v1/namespaces/{ns}/pods/{name}/log — relayed as plain streaming HTTP to the kubelet endpoint of the pod's
/// node (<c>/containerLogs/…</c>), with kubectl's query (container, follow, previous, tailLines, sinceSeconds,
/// timestamps). With follow the response stays open until the container ends or the client leaves.
/// </summary>
internal sealed class PodLogs(KubeletConnection kubelet) : ISubresourceHandler
{
    public string Group => "";
    public string Resource => "pods";
    public string Subresource => "log";

    public Task HandleAsync(HttpContext context, ResourceDescription resource, string? ns, string name) =>
        HandleAsync(context, ns!, name);

    private static readonly string[] Passed = ["follow", "previous", "tailLines", "sinceSeconds", "timestamps"];

    public async Task HandleAsync(HttpContext context, string ns, string name)
    {
        if (!HttpMethods.IsGet(context.Request.Method)) throw ApiException.MethodNotAllowed(context.Request.Method);
        var ct = context.RequestAborted;
        var query = context.Request.Query;
        var target = await kubelet.ResolveAsync(ns, name, query["container"].ToString(), ct);
        var forwarded = Passed.Where(k => query.ContainsKey(k)).Select(k => $"{k}={Uri.EscapeDataString(query[k].ToString())}")
            .Append($"podUID={Uri.EscapeDataString(target.Pod.Metadata.Uid)}");
        var uri = new Uri($"https://{target.Host}:{target.Port}{target.Path("containerLogs")}?{string.Join("&", forwarded)}");

        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        HttpResponseMessage response;
        try
        {
            response = await kubelet.Http(target.Pod.Spec.NodeName, target.Host).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            throw ApiException.Unavailable($"the node {target.Pod.Spec.NodeName} did not answer: {kubelet.Why(target.Pod.Spec.NodeName, target.Host, e)}");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw ApiException.BadRequest(await response.Content.ReadAsStringAsync(ct) is { Length: > 0 } text
                    ? text
                    : $"the node answered {(int)response.StatusCode}");
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/plain";
            await context.Response.StartAsync(ct);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), ct);
                await context.Response.Body.FlushAsync(ct); // kubectl logs -f shows lines as they come
            }
        }
    }
}
