using System.Net;
using Microsoft.AspNetCore.Http;
using Orchestrator.Node.Services;
using Yarp.ReverseProxy.Model;

namespace Orchestrator.Node.Proxy;

/// <summary>YARP pipeline step before load balancing: only the endpoints the client's and the backends' NetworkPolicies
/// allow stay available. With none left the client's connection is aborted — what a dropped connection looks like
/// through a proxy — rather than answered, as the destination's network would not answer either.</summary>
internal static class PolicyFilter
{
    public static Task FilterDestinations(HttpContext context, Func<Task> next, IConnectionPolicy policy)
    {
        var client = context.Connection.RemoteIpAddress;
        // without any NetworkPolicy nothing is filtered: skip the per-endpoint walk, which is O(endpoints) per request
        if (client is null || policy.AllowsEverything) return next();
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        var feature = context.GetReverseProxyFeature();
        var all = feature.AvailableDestinations;
        var allowed = all.Where(d => Allows(policy, client, d)).ToList();
        if (allowed.Count == all.Count) return next();
        if (allowed.Count == 0 && all.Count > 0)
        {
            context.Abort();
            return Task.CompletedTask;
        }
        feature.AvailableDestinations = allowed;
        return next();
    }

    private static bool Allows(IConnectionPolicy policy, IPAddress client, DestinationState destination) =>
        !Uri.TryCreate(destination.Model.Config.Address, UriKind.Absolute, out var uri) || !IPAddress.TryParse(uri.Host, out var backend)
        || policy.Allows(client, backend, uri.Port);
}
