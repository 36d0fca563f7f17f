using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// GET /api/v1/namespaces/{ns}/pods/{name}/log — relayed as plain streaming HTTP to the kubelet endpoint of the pod's
/// node (<c>/containerLogs/…</c>) with the request's PodLogOptions (<see cref="PodLogQuery"/>). As kube-apiserver: the
/// options are checked first (422), then the pod and its container; a pod not yet on a node has no logs (204). With
/// follow the response stays open until the container ends or the client leaves.
/// </summary>
internal sealed class PodLogs(KubeletConnection kubelet) : ISubresourceHandler
{
    public string Group => "";
    public string Resource => "pods";
    public string Subresource => "log";

    public Task HandleAsync(HttpContext context, ResourceDescription resource, string? ns, string name) =>
        HandleAsync(context, ns!, name);

    public async Task HandleAsync(HttpContext context, string ns, string name)
    {
        if (!HttpMethods.IsGet(context.Request.Method)) throw ApiException.MethodNotAllowed(context.Request.Method);
        var ct = context.RequestAborted;
        var options = PodLogQuery.Parse(context.Request.Query, name);
        var pod = await kubelet.GetPodAsync(ns, name, ct);
        var container = KubeletConnection.ContainerOf(pod, options.Container);
        if (string.IsNullOrEmpty(pod.Spec.NodeName))
        {
            // LogLocation's empty location: the API server streams nothing and answers 204
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        var (host, port) = await kubelet.NodeEndpointAsync(pod, ct);
        var target = new KubeletConnection.Target(pod, container, host, port);
        var uri = new Uri($"https://{target.Host}:{target.Port}{target.Path("containerLogs")}?{options.KubeletQuery(pod.Metadata.Uid)}");

        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        // Without follow this is an ordinary request, bounded in all; with follow a stream, bounded when idle.
        var follow = options.Follow;
        using var whole = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (!follow) whole.CancelAfter(kubelet.Timeouts.Request);
        HttpResponseMessage response;
        using (var headers = CancellationTokenSource.CreateLinkedTokenSource(whole.Token))
        {
            headers.CancelAfter(kubelet.Timeouts.Response);
            try
            {
                response = await kubelet.Http(target.Pod.Spec.NodeName, target.Host, options.InsecureSkipTlsVerifyBackend).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token);
            }
            catch (HttpRequestException e)
            {
                throw ApiException.Unavailable($"the node {target.Pod.Spec.NodeName} did not answer: {kubelet.Why(target.Pod.Spec.NodeName, target.Host, e)}");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw kubelet.NoAnswer(target.Pod.Spec.NodeName, "the log request");
            }
        }
        using (response)
        using (var idle = new IdleTimeout(kubelet.Timeouts.StreamIdle, whole.Token))
        {
            if (!response.IsSuccessStatusCode)
                throw ApiException.BadRequest(await ReadErrorAsync(response, idle.Token) is { Length: > 0 } text
                    ? text
                    : $"the node answered {(int)response.StatusCode}");
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/plain";
            await context.Response.StartAsync(ct);
            await using var body = await response.Content.ReadAsStreamAsync(idle.Token);
            var buffer = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = await body.ReadAsync(buffer, idle.Token)) > 0)
                {
                    idle.Touch();
                    await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), ct);
                    await context.Response.Body.FlushAsync(ct); // kubectl logs -f shows lines as they come
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException && !ct.IsCancellationRequested)
            {
                // The node went quiet for too long, the request's time ran out, or the node dropped the stream: the
                // answer has started, so it simply ends.
            }
        }
    }

    /// <summary>The node's refusal, at most 64 KiB of it.</summary>
    private static async Task<string> ReadErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[64 * 1024];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), ct)) > 0) total += read;
            return System.Text.Encoding.UTF8.GetString(buffer, 0, total);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            return "";
        }
    }
}
