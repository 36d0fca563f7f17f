using System.Text;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api;

/// <summary>
/// /healthz, /livez and /readyz as kube-apiserver serves them (k8s.io/apiserver healthz): "ok", or with
/// <c>?verbose</c> one line per check (<c>[+]ping ok</c>, <c>[-]etcd failed: reason withheld</c>) and
/// "readyz check passed"; any failed check answers 500 with the list and "readyz check failed";
/// <c>?exclude=NAME</c> skips a check; <c>/readyz/NAME</c> runs one check and says why it failed.
/// /livez is about the process (its actor system runs), /readyz adds the store (recovered, its journal takes
/// writes), the API's informers (synced) and shutdown, /healthz (deprecated in Kubernetes) is ping, actor system and
/// store. The store's check is named "etcd", as kube-apiserver names the check of its store, so <c>/readyz/etcd</c> and <c>?exclude=etcd</c> (the
/// docs' examples) mean the same here. /livez leaves the store out, unlike kube's: the nodes' API balancer judges a
/// master by /livez, and a follower whose replica is catching up must stay reachable (it forwards to the leader).
/// </summary>
public static class HealthEndpoints
{
    private sealed record Check(string Name, Func<HttpContext, string?> Failure);

    private static readonly Check Ping = new("ping", _ => null);

    private static readonly Check ActorSystem = new("actor-system", c =>
        c.RequestServices.GetService<ObjectStoreClient>() is { } client && client.System.WhenTerminated.IsCompleted
            ? "the actor system has terminated" : null);

    /// <summary>kube's "log" check: the process can log. Logging here never blocks (the providers queue), so it holds.</summary>
    private static readonly Check Log = new("log", _ => null);

    private static readonly Check Store = new("etcd", c =>
        c.RequestServices.GetService<StoreHealth>() is { } health ? health.NotReadyReason : "the object store reports no health");

    /// <summary>kube's "informer-sync": the API's informers on the store (the authorizers' caches above all) have listed
    /// their resources once, so a ready API knows every role; until then only system:masters would be let in.</summary>
    private static readonly Check InformerSync = new("informer-sync", c =>
        c.RequestServices.GetService<ObjectStoreClient>()?.Informers.Pending is { Count: > 0 } pending
            ? $"{pending.Count} informers not synced yet: [{string.Join(' ', pending)}]" : null);

    private static readonly Check Shutdown = new("shutdown", c =>
        c.RequestServices.GetService<IHostApplicationLifetime>()?.ApplicationStopping.IsCancellationRequested == true
            ? "process is shutting down" : null);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        Map(app, "healthz", [Ping, Log, ActorSystem, Store]);
        Map(app, "livez", [Ping, Log, ActorSystem]);
        Map(app, "readyz", [Ping, Log, ActorSystem, Store, InformerSync, Shutdown]);
        return app;
    }

    private static void Map(IEndpointRouteBuilder app, string name, Check[] checks)
    {
        app.MapGet("/" + name, context => Root(context, name, checks));
        app.MapGet($"/{name}/{{**check}}", context =>
        {
            var check = checks.FirstOrDefault(c => c.Name == (string?)context.Request.RouteValues["check"]);
            if (check is null) return Text(context, 404, "404 page not found\n");
            return check.Failure(context) is { } failure
                ? Text(context, 500, $"internal server error: {failure}\n")
                : Text(context, 200, "ok");
        });
    }

    private static Task Root(HttpContext context, string name, Check[] checks)
    {
        var excluded = context.Request.Query["exclude"].Where(e => e is not null).Select(e => e!).ToHashSet();
        var lines = new StringBuilder();
        var failed = false;
        foreach (var check in checks)
        {
            if (excluded.Remove(check.Name))
            {
                lines.Append($"[+]{check.Name} excluded: ok\n");
                continue;
            }
            if (check.Failure(context) is null)
            {
                lines.Append($"[+]{check.Name} ok\n");
                continue;
            }
            // The reason stays out of the public endpoint (kube-apiserver's rule); /{name}/{check} gives it.
            lines.Append($"[-]{check.Name} failed: reason withheld\n");
            failed = true;
        }
        if (excluded.Count > 0)
            lines.Append($"warn: some health checks cannot be excluded: no matches for {string.Join(",", excluded.Select(e => $"\"{e}\""))}\n");
        if (failed) return Text(context, 500, $"{lines}{name} check failed\n");
        return Text(context, 200, context.Request.Query.ContainsKey("verbose") ? $"{lines}{name} check passed\n" : "ok");
    }

    private static Task Text(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        return context.Response.WriteAsync(body);
    }
}
