using k8s;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Discovery;

/// <summary>Answers /version, /api, /apis, /api/v1, /apis/{group}[/{version}] and /openapi/v2|v3[/…], each from the
/// catalog's current snapshot (so a custom resource appears and disappears with its definition).</summary>
internal static class DiscoveryEndpoints
{
    private static CatalogSnapshot Catalog(HttpContext context) =>
        context.RequestServices.GetRequiredService<ResourceCatalog>().Current;

    /// <summary>The extension API servers' group versions (none without an aggregator).</summary>
    private static AggregatedGroupSet Aggregated(HttpContext context) =>
        context.RequestServices.GetService<IAggregatedGroups>()?.Current ?? AggregatedGroupSet.Empty;

    /// <summary>/version is written as kube-apiserver's WriteRawJSON writes it, for every client: json.MarshalIndent,
    /// two spaces, no newline after the closing brace.</summary>
    public static async Task VersionAsync(HttpContext context)
    {
        var body = GoJsonIndent.Indent(System.Text.Encoding.UTF8.GetBytes(DiscoveryDocuments.Version().ToJsonString()))!;
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    public static Task CoreAsync(HttpContext context)
    {
        if (AggregatedVersion(context) is { } version) return WriteAggregatedAsync(context, core: true, version);
        var host = context.Request.Host.HasValue ? context.Request.Host.Value! : "127.0.0.1:6443";
        return ApiResponses.WriteJsonAsync(context, 200, DiscoveryDocuments.CoreVersions(host));
    }

    public static Task GroupsAsync(HttpContext context) =>
        AggregatedVersion(context) is { } version
            ? WriteAggregatedAsync(context, core: false, version)
            : ApiResponses.WriteJsonAsync(context, 200, DiscoveryDocuments.GroupList(Catalog(context), Aggregated(context)));

    public static Task GroupAsync(HttpContext context, string group)
    {
        var found = DiscoveryDocuments.Groups(Catalog(context), Aggregated(context)).FirstOrDefault(g => g.Name == group)
                    ?? throw ApiException.UnknownPath();
        return ApiResponses.WriteJsonAsync(context, 200, DiscoveryDocuments.Group(found));
    }

    public static Task GroupVersionAsync(HttpContext context, string group, string version)
    {
        var catalog = Catalog(context);
        if (!catalog.Serves(group, version)) throw ApiException.UnknownPath();
        return ApiResponses.WriteJsonAsync(context, 200, DiscoveryDocuments.ResourceList(catalog, group, version));
    }

    public static Task OpenApiRootAsync(HttpContext context) =>
        ApiResponses.WriteJsonAsync(context, 200, OpenApiDocuments.For(Catalog(context)).Root());

    public static Task OpenApiGroupVersionAsync(HttpContext context, string path) =>
        OpenApiDocuments.For(Catalog(context)).ForPath(path) is { } doc
            ? ApiResponses.WriteJsonAsync(context, 200, doc)
            : throw ApiException.UnknownPath();

    /// <summary>
    /// /openapi/v2: the Swagger 2.0 document of every served resource (definitions and paths), as JSON; kubectl reads
    /// it as protobuf (a gnostic Document), which it gets too (<see cref="OpenApiV2Protobuf"/>).
    /// </summary>
    public static async Task OpenApiV2Async(HttpContext context)
    {
        var documents = OpenApiDocuments.For(Catalog(context));
        context.Response.Headers.ETag = $"\"{documents.V2Hash}\"";
        if (context.Request.Headers.Accept.ToString().Contains("protobuf", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.ContentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
            await context.Response.Body.WriteAsync(documents.V2Protobuf(), context.RequestAborted);
            return;
        }
        await ApiResponses.WriteJsonAsync(context, 200, documents.V2Json);
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

    /// <summary>The aggregated document, with the catalog's hash as its ETag (clients revalidate with
    /// If-None-Match and get 304 while nothing changed).</summary>
    private static Task WriteAggregatedAsync(HttpContext context, bool core, string version)
    {
        var catalog = Catalog(context);
        var aggregated = core ? AggregatedGroupSet.Empty : Aggregated(context);
        var etag = $"\"{catalog.Hash}{(aggregated.Hash.Length > 0 ? "-" + aggregated.Hash : "")}{(core ? "-core" : "")}-{version}\"";
        context.Response.Headers.Vary = "Accept";
        context.Response.Headers.ETag = etag;
        if (context.Request.Headers.IfNoneMatch.ToString() == etag)
        {
            context.Response.StatusCode = 304;
            return Task.CompletedTask;
        }
        var list = DiscoveryDocuments.Aggregated(catalog, core, aggregated);
        list.ApiVersion = $"apidiscovery.k8s.io/{version}";
        return ApiResponses.WriteJsonAsync(context, 200, KubernetesJson.Serialize(list),
            $"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList");
    }
}
