using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// Proxy-pipeline middleware around the forwarder: a request without a body whose destination refused the
/// connection (a pod that just died, before its endpoint is withdrawn) is sent once more to another available
/// destination instead of answering 502 — nothing reached the dead pod, so repeating is safe. The destinations
/// the load balancer chose from are remembered by <see cref="RememberCandidates"/>, which runs before it.
/// </summary>
public static class RetryOnConnectFailure
{
    private const string CandidatesKey = "orchestrator.proxy.candidates";

    public static Task RememberCandidates(HttpContext context, Func<Task> next)
    {
        context.Items[CandidatesKey] = context.GetReverseProxyFeature().AvailableDestinations;
        return next();
    }

    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        await next();
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is not { Error: ForwarderError.Request, Exception: HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } }
            || context.Response.HasStarted
            || HasBody(context.Request) || context.Items[CandidatesKey] is not IReadOnlyList<DestinationState> candidates)
            return;
        var feature = context.GetReverseProxyFeature();
        var failed = feature.ProxiedDestination;
        var others = candidates.Where(d => !ReferenceEquals(d, failed)).ToList();
        if (others.Count == 0) return;
        context.Features.Set<IForwarderErrorFeature?>(null);
        context.Response.StatusCode = StatusCodes.Status200OK;
        feature.AvailableDestinations = [others[Random.Shared.Next(others.Count)]];
        await next();
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0;
}
