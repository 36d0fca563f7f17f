using System.Text.Json.Nodes;
using Orchestrator.Cli.Kube;
using Orchestrator.Cli.Objects;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// create / apply / delete -f: every object of the manifests, in order, through raw requests on the library's
/// HttpClient (a manifest may hold any kind). Like kubectl, one object's failure does not stop the others;
/// each failure is one line and the exit code is 1.
/// </summary>
internal static class ManifestCommands
{
    public static Task<int> Create(CommandContext ctx) => ForEach(ctx, "create", async (api, m, type, ns) =>
    {
        await api.Send(HttpMethod.Post, type.CollectionPath(ns), m.Body.ToJsonString());
        return "created";
    });

    /// <summary>Create, or replace the live object with the file's version (keeping its resourceVersion for optimistic concurrency).</summary>
    public static Task<int> Apply(CommandContext ctx) => ForEach(ctx, "apply", async (api, m, type, ns) =>
    {
        try
        {
            await api.Send(HttpMethod.Post, type.CollectionPath(ns), m.Body.ToJsonString());
            return "created";
        }
        catch (ServerError e) when (e.Code == 409)
        {
            var live = JsonNode.Parse(await api.Send(HttpMethod.Get, type.ObjectPath(ns, m.Name)))!;
            var body = (JsonObject)m.Body.DeepClone();
            var metadata = body["metadata"] as JsonObject ?? new JsonObject();
            body["metadata"] = metadata;
            metadata["resourceVersion"] = live["metadata"]?["resourceVersion"]?.DeepClone();
            // A Service keeps its allocated clusterIP (and nodePorts the file leaves out), as kubectl apply's merge would.
            if (type.Plural == "services" && live["spec"]?["clusterIP"] is { } ip && body["spec"] is JsonObject spec && spec["clusterIP"] is null)
                spec["clusterIP"] = ip.DeepClone();
            if (Covers(live, m.Body)) return "unchanged";
            await api.Send(HttpMethod.Put, type.ObjectPath(ns, m.Name), body.ToJsonString());
            return "configured";
        }
    });

    public static Task<int> DeleteFiles(CommandContext ctx) => ForEach(ctx, "delete", async (api, m, type, ns) =>
    {
        try
        {
            await api.Send(HttpMethod.Delete, type.ObjectPath(ns, m.Name) + "?propagationPolicy=Background");
        }
        catch (ServerError e) when (e.Code == 404 && ctx.Args.GetBool("ignore-not-found"))
        {
            return null;
        }
        return "deleted";
    }, quoted: true);

    private static async Task<int> ForEach(CommandContext ctx, string verb,
        Func<ApiConnection, Manifest, ResourceType, string?, Task<string?>> act, bool quoted = false)
    {
        var files = ctx.Args.GetAll("filename");
        if (files.Count == 0) throw new UsageException($"must specify one of -f and -k (see 'orchctl {verb} --help')");
        var manifests = Manifests.Read(files, ctx.In);
        if (manifests.Count == 0) throw new CliException("error: no objects passed to " + verb);
        using var api = ctx.Connect();
        var failed = false;
        foreach (var m in manifests)
        {
            var type = ResourceType.ForKind(m.ApiVersion, m.Kind);
            if (type is null)
            {
                await ctx.Err.WriteLineAsync($"error: resource mapping not found for name: \"{m.Name}\" namespace: \"\" from \"{m.Source}\": no matches for kind \"{m.Kind}\" in version \"{m.ApiVersion}\"");
                failed = true;
                continue;
            }
            var ns = type.Namespaced ? (ctx.Args.Get("namespace") ?? m.Namespace ?? api.Namespace) : null;
            try
            {
                var outcome = await act(api, m, type, ns);
                if (outcome is not null)
                    await ctx.Out.WriteLineAsync(quoted ? $"{type.Qualified} \"{m.Name}\" {outcome}" : $"{type.Qualified}/{m.Name} {outcome}");
            }
            catch (ServerError e)
            {
                await ctx.Err.WriteLineAsync(e.Message);
                failed = true;
            }
        }
        return failed ? 1 : 0;
    }

    /// <summary>
    /// Whether the live object already says everything the file says (the server adds defaults and status, which the
    /// file does not mention): then apply has nothing to change, as kubectl apply reports "unchanged".
    /// </summary>
    public static bool Covers(JsonNode? live, JsonNode? file) => (live, file) switch
    {
        (_, null) => true,
        (JsonObject l, JsonObject f) => f.All(kv => kv.Key == "status" || Covers(l[kv.Key], kv.Value)),
        (JsonArray l, JsonArray f) => l.Count == f.Count && l.Zip(f).All(p => Covers(p.First, p.Second)),
        (JsonValue l, JsonValue f) => l.ToJsonString().Trim('"') == f.ToJsonString().Trim('"'),
        _ => false,
    };
}
