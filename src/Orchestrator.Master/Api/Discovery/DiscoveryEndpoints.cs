using k8s;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;

namespace Orchestrator.Master.Api.Discovery;

/// <summary>Answers /version, /api, /apis, /api/v1, /apis/{group}[/{version}] and /openapi/v3[/…].</summary>
internal static class DiscoveryEndpoints
{
    public static Task VersionAsync(HttpContext context) =>
        ApiResponses.WriteJsonAsync(context, 200, DiscoveryDocuments.Version());

    public static Task CoreAsync(HttpContext context)
    {
        if (AggregatedVersion(context) is { } version) return WriteAggregatedAsync(context, core: true, version);
        var host = context.Request.Host.HasValue ? context.Request.Host.Value! : "127.0.0.1:6443";
        return ApiResponses.WriteJsonAsync(context, 200, DiscoveryDocuments.CoreVersions(host));
    }

    public static Task GroupsAsync(HttpContext context) =>
        AggregatedVersion(context) is { } version
            ? WriteAggregatedAsync(context, core: false, version)
            : ApiResponses.WriteJsonAsync(context, 200, DiscoveryDocuments.GroupList());

    public static Task GroupAsync(HttpContext context, string group)
    {
        var found = DiscoveryDocuments.Groups().FirstOrDefault(g => g.Group == group);
        if (found.Group is null) throw ApiException.UnknownPath();
        return ApiResponses.WriteJsonAsync(context, 200, DiscoveryDocuments.Group(found.Group, found.Versions));
    }

    public static Task GroupVersionAsync(HttpContext context, string group, string version)
    {
        if (!DiscoveryDocuments.HasGroupVersion(group, version)) throw ApiException.UnknownPath();
        return ApiResponses.WriteJsonAsync(context, 200, DiscoveryDocuments.ResourceList(group, version));
    }

    public static Task OpenApiRootAsync(HttpContext context) =>
        ApiResponses.WriteJsonAsync(context, 200, OpenApiDocuments.Root());

    public static Task OpenApiGroupVersionAsync(HttpContext context, string path) =>
        OpenApiDocuments.ForPath(path) is { } doc
            ? ApiResponses.WriteJsonAsync(context, 200, doc)
            : throw ApiException.UnknownPath();

    /// <summary>
    /// /openapi/v2 exists so that kubectl's client-side validation (used for kinds the v3 documents do not list)
    /// can load it and, finding no schema for the kind, skip to resource mapping, which reports an unknown kind
    /// as on a real cluster. kubectl reads it as protobuf: a Document with only swagger "2.0" (field 1).
    /// </summary>
    public static async Task OpenApiV2Async(HttpContext context)
    {
        if (context.Request.Headers.Accept.ToString().Contains("protobuf", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.ContentType = "application/octet-stream";
            await context.Response.Body.WriteAsync(new byte[] { 0x0A, 0x03, (byte)'2', (byte)'.', (byte)'0' }, context.RequestAborted);
            return;
        }
        await ApiResponses.WriteJsonAsync(context, 200,
            $"{{\"swagger\":\"2.0\",\"info\":{{\"title\":\"Kubernetes\",\"version\":\"{DiscoveryDocuments.KubernetesVersion}\"}},\"paths\":{{}},\"definitions\":{{}}}}");
    }

    /// <summary>"v2" or "v2beta1" when the client accepts aggregated discovery (checked in the client's order,
    /// so a client preferring the legacy form gets it).</summary>
    private static string? AggregatedVersion(HttpContext context)
    {
        foreach (var range in ContentNegotiation.ParseAccept(context.Request.Headers.Accept))
        {
            if (range["g"] == "apidiscovery.k8s.io" && range["as"] == "APIGroupDiscoveryList" && range["v"] is "v2" or "v2beta1")
                return range["v"];
            if (range.Type is "application/json" or "*/*" && range.Parameters.Count == 0) return null;
        }
        return null;
    }

    private static Task WriteAggregatedAsync(HttpContext context, bool core, string version)
    {
        var list = DiscoveryDocuments.Aggregated(core);
        list.ApiVersion = $"apidiscovery.k8s.io/{version}";
        context.Response.Headers.Vary = "Accept";
        return ApiResponses.WriteJsonAsync(context, 200, KubernetesJson.Serialize(list),
            $"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList");
    }
}
