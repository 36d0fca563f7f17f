using System.Diagnostics;
using Orchestrator.Master.Diagnostics;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Http;

/// <summary>Counts and times every API request (unauthorized ones included) the way kube-apiserver labels them:
/// the verb in upper case with GET split into GET, LIST and WATCH, PATCH with an apply body as APPLY, and the
/// streaming subresources (exec, attach, portforward) as CONNECT.</summary>
internal sealed class ApiRequestMetrics(RequestDelegate next)
{
    private static readonly HashSet<string> ConnectSubresources = ["exec", "attach", "portforward", "proxy"];

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var request = context.Request;
            var info = RequestInfo.Of(context);
            var code = context.Response.StatusCode;
            // unknown resources are not labelled by name: arbitrary paths must not create series
            var known = info?.ResourceName is not null &&
                        (code != 404 || context.RequestServices.GetService<ResourceCatalog>()?.Current
                            .Find(info.Group, info.Version, info.ResourceName) is not null);
            MasterMetrics.ApiRequest(Verb(request, info), known ? info!.Group : "", known ? info!.Version : "",
                known ? info!.ResourceName! : "", known ? info!.Subresource ?? "" : "", code, Stopwatch.GetElapsedTime(started));
        }
    }

    private static string Verb(HttpRequest request, RequestInfo? info)
    {
        var method = request.Method.ToUpperInvariant();
        if (info?.Subresource is { } sub && ConnectSubresources.Contains(sub)) return "CONNECT";
        return method switch
        {
            "GET" when QueryParameters.Bool(request.Query, "watch") => "WATCH",
            "GET" when info is { ResourceName: not null, Name: null } => "LIST",
            "PATCH" when request.ContentType?.StartsWith("application/apply-patch", StringComparison.OrdinalIgnoreCase) == true => "APPLY",
            _ => method,
        };
    }
}
