using Microsoft.Extensions.DependencyInjection.Extensions;
using Orchestrator.Master.Api.Aggregation;
using Orchestrator.Master.Api.Authentication;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Discovery;
using Orchestrator.Master.Api.FlowControl;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Core;

namespace Orchestrator.Master.Api;

/// <summary>
/// Routing of the Kubernetes API: health, version, discovery, OpenAPI, and every resource path, dispatched by
/// <see cref="RequestInfo"/> and HTTP method to the REST handlers. Every failure is answered with a Status.
/// </summary>
internal static class ApiEndpoints
{
    /// <summary>The API's services; <see cref="ObjectStoreClient"/> and the <see cref="ResourceCatalog"/> are registered by
    /// the host (it knows the actor system and shares the catalog with the store).</summary>
    public static IServiceCollection AddKubernetesApi(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new FlowControl.FlowControlOptions(
            FlowControl.FlowControlOptions.DefaultMaxRequestsInflight + FlowControl.FlowControlOptions.DefaultMaxMutatingRequestsInflight,
            Http.RequestDeadline.DefaultMaximum / 4));
        services.AddSingleton(sp => new FlowControl.FlowControlLimiter(new FlowControl.FlowControlConfiguration([], [],
            sp.GetRequiredService<FlowControl.FlowControlOptions>().ServerConcurrencyLimit)));
        services.AddHostedService<FlowControl.FlowControlCache>();
        services.TryAddSingleton<IProtobufBodyDecoder, ProtobufBodies>();
        services.TryAddSingleton<IProtobufStatusEncoder, Protobuf.ProtobufStatusEncoder>();
        services.AddSingleton<RequestBodies>();
        services.AddSingleton<ApiResponses>();
        services.AddSingleton<WatchHandler>();
        services.AddSingleton<ResourceHandlers>();
        services.AddSingleton<Webhooks.PodTunnel>();
        services.AddSingleton<Webhooks.WebhookClients>();
        // one dispatcher for the API's requests and the controllers' writes (Webhooks.ControllerAdmissionGateway)
        services.AddSingleton<Webhooks.WebhookDispatcher>();
        services.AddSingleton<IWebhookAdmission>(sp => sp.GetRequiredService<Webhooks.WebhookDispatcher>());
        services.AddSingleton<Webhooks.ConversionWebhook>();
        services.AddSingleton<SubresourceHandlers>();
        services.TryAddSingleton(KubeletTimeouts.Default);
        services.AddSingleton<KubeletConnection>();
        services.AddSingleton<ISubresourceHandler, PodLogs>();
        services.AddSingleton<ISubresourceHandler, PodExec>();
        services.AddSingleton<ISubresourceHandler, PodAttach>();
        services.AddSingleton<ISubresourceHandler, PodPortForward>();
        services.AddSingleton<PodBinding>();
        services.AddSingleton<ISubresourceHandler>(sp => sp.GetRequiredService<PodBinding>());
        services.AddSingleton<IResourceView, LegacyBindings>();
        services.AddSingleton<ISubresourceHandler, PodEviction>();
        services.AddSingleton<NodeProxy>();
        services.AddSingleton<PodServiceProxy>();
        // metrics.k8s.io from the nodes' reports (the host registers the cache the NodeGateway fills)
        services.TryAddSingleton<ResourceMetrics.ResourceUsageCache>();
        foreach (var metrics in Registry.Kinds.Metrics.MetricsResources.All)
            services.AddSingleton<IResourceView>(sp => new Metrics.ResourceMetricsView(metrics, sp.GetRequiredService<Storage.ObjectStoreClient>(),
                sp.GetRequiredService<ResourceMetrics.ResourceUsageCache>()));
        services.AddKubernetesAuthentication();
        services.AddKubernetesAuthorization();
        services.AddAggregation();
        return services;
    }

    public static IEndpointRouteBuilder MapKubernetesApi(this IEndpointRouteBuilder app)
    {
        // the conversion webhooks reach services through the store client they serve, so they are joined here, not injected
        app.ServiceProvider.GetRequiredService<Storage.ObjectStoreClient>().Webhooks = app.ServiceProvider.GetRequiredService<Webhooks.ConversionWebhook>();
        app.MapHealth();
        app.MapFlowControlDebug(); // /debug/api_priority_and_fairness/*, behind RBAC as kube's non-resource URLs
        Map(app, "/version", DiscoveryEndpoints.VersionAsync);
        Map(app, "/openapi/v2", DiscoveryEndpoints.OpenApiV2Async);
        Map(app, "/openapi/v3", DiscoveryEndpoints.OpenApiRootAsync);
        Map(app, "/openapi/v3/{**path}", c => DiscoveryEndpoints.OpenApiGroupVersionAsync(c, (string)c.Request.RouteValues["path"]!));
        Map(app, OidcDiscovery.ConfigurationPath, c => c.RequestServices.GetRequiredService<OidcDiscovery>().ConfigurationAsync(c));
        Map(app, OidcDiscovery.KeySetPath, c => c.RequestServices.GetRequiredService<OidcDiscovery>().KeySetAsync(c));
        Map(app, "/api", DiscoveryEndpoints.CoreAsync);
        Map(app, "/apis", DiscoveryEndpoints.GroupsAsync);
        Map(app, "/api/{**rest}", DispatchAsync);
        Map(app, "/apis/{**rest}", DispatchAsync);
        // nodes/{name}/proxy/{path}: the path after "proxy" is the node's, so it is routed before the generic dispatch
        Map(app, "/api/v1/nodes/{name}/proxy/{**path}", c => c.RequestServices.GetRequiredService<NodeProxy>()
            .HandleAsync(c, c.Request.RouteValues["name"] as string ?? "", c.Request.RouteValues["path"] as string ?? ""));
        Map(app, "/api/v1/nodes/{name}/proxy", c => c.RequestServices.GetRequiredService<NodeProxy>()
            .HandleAsync(c, c.Request.RouteValues["name"] as string ?? "", ""));
        // pods/{id}/proxy/{path} and services/{id}/proxy/{path}, likewise (the id may be scheme:name:port)
        foreach (var (kind, service) in new[] { ("pods", false), ("services", true) })
        {
            Map(app, $"/api/v1/namespaces/{{namespace}}/{kind}/{{name}}/proxy/{{**path}}", c => ProxyAsync(c, service));
            Map(app, $"/api/v1/namespaces/{{namespace}}/{kind}/{{name}}/proxy", c => ProxyAsync(c, service));
        }
        app.MapFallback(context => Guard(context, _ => throw ApiException.UnknownPath()));
        return app;
    }

    private static Task ProxyAsync(HttpContext c, bool service) => c.RequestServices.GetRequiredService<PodServiceProxy>()
        .HandleAsync(c, service, c.Request.RouteValues["namespace"] as string ?? "", c.Request.RouteValues["name"] as string ?? "");

    private static void Map(IEndpointRouteBuilder app, string pattern, Func<HttpContext, Task> handler) =>
        app.Map(pattern, context => Guard(context, handler));

    // the logger ("Orchestrator.Master.Api") is looked up only when a failure is logged
    private static Task Guard(HttpContext context, Func<HttpContext, Task> handler) =>
        StatusResponses.GuardAsync(context, () => handler(context));

    private static Task DispatchAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var method = context.Request.Method;
        // (split only when it may be a group's path: not on every request)
        if (path.Contains("apis", StringComparison.Ordinal) &&
            path.Split('/', StringSplitOptions.RemoveEmptyEntries) is ["apis", var groupOnly]) return RequireGet(method, () => DiscoveryEndpoints.GroupAsync(context, groupOnly));
        // a group version an extension API server serves (an APIService with a service) goes there, before anything
        // served here (metrics-server's v1beta1.metrics.k8s.io replaces the local metrics while it exists)
        if (context.RequestServices.GetRequiredService<AggregationProxy>().TryProxy(context) is { } proxied) return proxied;

        var info = RequestInfo.Of(context) ?? throw ApiException.UnknownPath();
        info.CheckNames();
        if (info.IsGroupVersionRoot)
            return RequireGet(method, () => DiscoveryEndpoints.GroupVersionAsync(context, info.Group, info.Version));

        var services = context.RequestServices;
        if (services.GetServices<IResourceView>().FirstOrDefault(v => v.Serves(info)) is { } view)
        {
            // (the reviews answer protobuf; metrics and legacy bindings JSON only)
            if (ProtobufAnswers.Answerable(context, view.AnswersProtobuf ? view.Resource : null) is { } refused)
                throw refused;
            if (view.Resource.DeprecationWarning is { } warning) Warnings.Add(context, warning); // v1 ComponentStatus
            return view.HandleAsync(context, info);
        }

        var resource = services.GetRequiredService<ResourceCatalog>().Current.Find(info.Group, info.Version, info.ResourceName!)
                       ?? throw ApiException.UnknownPath();
        if (!resource.Namespaced && info.Namespace is not null) throw ApiException.UnknownPath();
        // apiextensions-apiserver warns on every request to a deprecated version, subresources included.
        if (resource.DeprecationWarning is { } deprecated) Warnings.Add(context, deprecated);

        if (info.Subresource is { } sub)
        {
            var subresource = resource.Subresource(sub) ?? throw ApiException.UnknownPath();
            var special = services.GetServices<ISubresourceHandler>().FirstOrDefault(h => h.Serves(resource, sub));
            // logs and the exec/attach/port-forward streams are not negotiated objects (kube streams them as they are)
            if (sub is not ("log" or "exec" or "attach" or "portforward") &&
                ProtobufAnswers.Answerable(context, resource, subresource) is { } refused)
                throw refused;
            if (special is not null)
                return special.HandleAsync(context, resource, info.Namespace, info.Name!);
            return services.GetRequiredService<SubresourceHandlers>()
                .HandleAsync(context, resource, info.Namespace, info.Name!, subresource);
        }

        if (ProtobufAnswers.Answerable(context, resource) is { } unwritable) throw unwritable;
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
