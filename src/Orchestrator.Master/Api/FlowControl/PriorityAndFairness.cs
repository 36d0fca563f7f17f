using Orchestrator.Master.Api.Authorization;

namespace Orchestrator.Master.Api.FlowControl;

/// <summary>
/// API Priority and Fairness, the request filter (k8s.io/apiserver's WithPriorityAndFairness, which replaces the
/// max-in-flight filter): every authenticated request is classified by FlowSchema, answered with the
/// <c>X-Kubernetes-PF-FlowSchema-UID</c> and <c>X-Kubernetes-PF-PriorityLevel-UID</c> headers, and runs only with a
/// seat of its priority level (<see cref="FlowControlLimiter"/>); a request refused or timed out in its queue gets
/// kube's 429 (plain text, Retry-After: 1). Long-running requests other than watches (exec, attach, logs,
/// port-forward, proxies) are not classified, as in kube; a watch holds its seat until its answer starts, that is
/// while its initial list is taken. Between impersonation and authorization, as in kube's handler chain: a request
/// RBAC refuses takes a seat too, and is 429 while its level is full.
/// </summary>
internal sealed class PriorityAndFairness(RequestDelegate next, FlowControlLimiter limiter, FlowControlOptions options)
{
    public const string FlowSchemaHeader = "X-Kubernetes-PF-FlowSchema-UID";
    public const string PriorityLevelHeader = "X-Kubernetes-PF-PriorityLevel-UID";
    private static readonly HashSet<string> LongRunningSubresources = ["attach", "exec", "proxy", "log", "portforward"];
    private static readonly byte[] TooManyRequestsBody = "Too many requests, please try again later.\n"u8.ToArray();

    public Task InvokeAsync(HttpContext context)
    {
        if (RequestImpersonation.AttributesOf(context) is not { } request) return next(context); // health and version: no user
        var watch = request.Verb == "watch";
        if (!watch && (request.Verb == "proxy" || (request.IsResourceRequest && LongRunningSubresources.Contains(request.Subresource))))
            return next(context);
        var classification = limiter.Configuration.Classify(request);
        var headers = context.Response.Headers;
        headers[FlowSchemaHeader] = classification.Schema.Metadata.Uid ?? "";
        headers[PriorityLevelHeader] = classification.Level.Uid;
        if (classification.Level.Exempt) return next(context);
        var seat = limiter.TryAcquire(classification, out var wait, options.QueueWait, context.RequestAborted);
        if (seat is not null) return RunAsync(context, seat, watch);
        return wait is null ? TooManyRequestsAsync(context) : WaitThenRunAsync(context, wait, watch);
    }

    private async Task WaitThenRunAsync(HttpContext context, Task<FlowControlLimiter.Seat?> wait, bool watch)
    {
        if (await wait is not { } seat)
        {
            if (!context.RequestAborted.IsCancellationRequested) await TooManyRequestsAsync(context);
            return;
        }
        await RunAsync(context, seat, watch);
    }

    private async Task RunAsync(HttpContext context, FlowControlLimiter.Seat seat, bool watch)
    {
        using (seat)
        {
            // kube counts a watch only while it is initialised
            if (watch) context.Response.OnStarting(static s => { ((IDisposable)s).Dispose(); return Task.CompletedTask; }, seat);
            await next(context);
        }
    }

    private static Task TooManyRequestsAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = "1";
        response.Headers.XContentTypeOptions = "nosniff";
        response.ContentType = "text/plain; charset=utf-8";
        return response.Body.WriteAsync(TooManyRequestsBody).AsTask();
    }
}
