using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// Proxy-pipeline middleware around the forwarder: a request without a body whose destination refused or timed out the
/// connection (a pod that just died, or whose node is lost, before its endpoint is withdrawn) is sent again to another
/// available destination, up to <see cref="MaxAttempts"/> tries in all, instead of answering 502 — nothing reached the
/// dead pod, so repeating is safe. The destinations the load balancer chose from are remembered by
/// <see cref="RememberCandidates"/>, which runs before it.
/// </summary>
internal static class RetryOnConnectFailure
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
        if (HasBody(context.Request) || context.Items[CandidatesKey] is not IReadOnlyList<DestinationState> candidates) return;
        var feature = context.GetReverseProxyFeature();
        var tried = new List<DestinationState>();
        // several pods may be gone at once (a lost node takes all of its pods): try each other candidate at most once
        for (var attempt = 1; attempt < MaxAttempts && FailedToConnect(context); attempt++)
        {
            tried.Add(feature.ProxiedDestination!);
            var others = candidates.Where(d => !tried.Any(t => ReferenceEquals(t, d))).ToList();
            if (others.Count == 0) return;
            context.Features.Set<IForwarderErrorFeature?>(null);
            context.Response.StatusCode = StatusCodes.Status200OK;
            feature.AvailableDestinations = [others[Random.Shared.Next(others.Count)]];
            await next();
        }
    }

    /// <summary>The first try and at most two others.</summary>
    public const int MaxAttempts = 3;

    private static bool FailedToConnect(HttpContext context) =>
        context.Features.Get<IForwarderErrorFeature>() is { Error: ForwarderError.Request, Exception: HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } }
        && !context.Response.HasStarted && context.GetReverseProxyFeature().ProxiedDestination is not null;

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0;
}
