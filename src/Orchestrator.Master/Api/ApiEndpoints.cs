using Microsoft.Extensions.DependencyInjection.Extensions;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Discovery;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Rest;

namespace Orchestrator.Master.Api;

/// <summary>
/// Routing of the Kubernetes API: health, version, discovery, OpenAPI, and every resource path, dispatched by
/// <see cref="RequestInfo"/> and HTTP method to the REST handlers. Every failure is answered with a Status.
/// </summary>
internal static class ApiEndpoints
{
    /// <summary>The API's services; <see cref="ObjectStoreClient"/> is registered by the host (it knows the actor system).</summary>
    public static IServiceCollection AddKubernetesApi(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IProtobufBodyDecoder, ProtobufBodies>();
        services.AddSingleton<RequestBodies>();
        services.AddSingleton<ApiResponses>();
        services.AddSingleton<WatchHandler>();
        services.AddSingleton<ResourceHandlers>();
        services.AddSingleton<SubresourceHandlers>();
        services.AddSingleton<IResourceView, EndpointSliceView>();
        services.AddSingleton<IResourceView, NodeLeaseView>();
        services.TryAddSingleton(KubeletTimeouts.Default);
        services.AddSingleton<KubeletConnection>();
        services.AddSingleton<PodLogs>();
        services.AddSingleton<PodExec>();
        services.AddSingleton<PodPortForward>();
        return services;
    }

    public static IEndpointRouteBuilder MapKubernetesApi(this IEndpointRouteBuilder app)
    {
        foreach (var health in new[] { "/healthz", "/livez", "/readyz" })
        {
            app.MapGet(health, () => Results.Text("ok"));
            app.MapGet(health + "/{**check}", () => Results.Text("ok"));
        }
        Map(app, "/version", DiscoveryEndpoints.VersionAsync);
        Map(app, "/openapi/v2", DiscoveryEndpoints.OpenApiV2Async);
        Map(app, "/openapi/v3", DiscoveryEndpoints.OpenApiRootAsync);
        Map(app, "/openapi/v3/{**path}", c => DiscoveryEndpoints.OpenApiGroupVersionAsync(c, (string)c.Request.RouteValues["path"]!));
        Map(app, "/api", DiscoveryEndpoints.CoreAsync);
        Map(app, "/apis", DiscoveryEndpoints.GroupsAsync);
        Map(app, "/api/{**rest}", DispatchAsync);
        Map(app, "/apis/{**rest}", DispatchAsync);
        app.MapFallback(context => Guard(context, _ => throw ApiException.UnknownPath()));
        return app;
    }

    private static void Map(IEndpointRouteBuilder app, string pattern, Func<HttpContext, Task> handler) =>
        app.Map(pattern, context => Guard(context, handler));

    private static Task Guard(HttpContext context, Func<HttpContext, Task> handler) =>
        StatusResponses.GuardAsync(context, () => handler(context),
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Orchestrator.Master.Api"));

    private static Task DispatchAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var method = context.Request.Method;
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts is ["apis", var groupOnly]) return RequireGet(method, () => DiscoveryEndpoints.GroupAsync(context, groupOnly));

        var info = RequestInfo.Parse(path) ?? throw ApiException.UnknownPath();
        info.CheckNames();
        if (info.IsGroupVersionRoot)
            return RequireGet(method, () => DiscoveryEndpoints.GroupVersionAsync(context, info.Group, info.Version));

        var services = context.RequestServices;
        if (services.GetServices<IResourceView>().FirstOrDefault(v => v.Serves(info)) is { } view)
            return view.HandleAsync(context, info);

        var resource = info.FindResource() ?? throw ApiException.UnknownPath();
        if (!resource.Namespaced && info.Namespace is not null) throw ApiException.UnknownPath();

        if (resource == Orchestrator.Shared.Api.ApiResources.Pods && info.Subresource == "log") return services.GetRequiredService<PodLogs>().HandleAsync(context, info.Namespace!, info.Name!);
        if (resource == Orchestrator.Shared.Api.ApiResources.Pods && info.Subresource == "exec") return services.GetRequiredService<PodExec>().HandleAsync(context, info.Namespace!, info.Name!);
        if (resource == Orchestrator.Shared.Api.ApiResources.Pods && info.Subresource == "portforward") return services.GetRequiredService<PodPortForward>().HandleAsync(context, info.Namespace!, info.Name!);
        if (info.Subresource is { } sub)
        {
            if (!resource.Subresources.Contains(sub)) throw ApiException.UnknownPath();
            return services.GetRequiredService<SubresourceHandlers>()
                .HandleAsync(context, resource, info.Namespace, info.Name!, sub);
        }

        var handlers = services.GetRequiredService<ResourceHandlers>();
        return (method, info.Name) switch
        {
            ("GET", null) => handlers.ListAsync(context, resource, info.Namespace),
            ("GET", { } name) => handlers.GetAsync(context, resource, info.Namespace, name),
            ("POST", null) => handlers.CreateAsync(context, resource, info.Namespace),
            ("PUT", { } name) => handlers.UpdateAsync(context, resource, info.Namespace, name),
            ("PATCH", { } name) => handlers.PatchAsync(context, resource, info.Namespace, name),
            ("DELETE", { } name) => handlers.DeleteAsync(context, resource, info.Namespace, name),
            ("DELETE", null) => handlers.DeleteCollectionAsync(context, resource, info.Namespace),
            _ => throw ApiException.MethodNotAllowed(method),
        };
    }

    private static Task RequireGet(string method, Func<Task> handler) =>
        method is "GET" or "HEAD" ? handler() : throw ApiException.MethodNotAllowed(method);
}
