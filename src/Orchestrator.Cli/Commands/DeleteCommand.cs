using System.Text.Json.Nodes;
using Orchestrator.Cli.Kube;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Commands;

/// <summary>orchctl delete TYPE NAME… | TYPE/NAME… | TYPE -l selector | -f FILE (background propagation, like kubectl).</summary>
internal static class DeleteCommand
{
    public static async Task<int> Run(CommandContext ctx)
    {
        if (ctx.Args.GetAll("filename").Count > 0) return await ManifestCommands.DeleteFiles(ctx);
        if (ctx.Args.Positionals.Count == 0)
            throw new UsageException("You must provide one or more resources by argument or filename (see 'orchctl delete --help')");
        var selector = ctx.Args.Get("selector");
        using var api = ctx.Connect();
        var targets = new List<(ResourceType Type, string Name)>();
        if (selector is not null)
        {
            if (ctx.Args.Positionals.Count != 1) throw new UsageException("name cannot be provided when a selector is specified");
            foreach (var type in ctx.Args.Positionals[0].Split(',').Select(ResourceType.Resolve))
            {
                var list = JsonNode.Parse(await api.Send(HttpMethod.Get,
                    type.CollectionPath(type.Namespaced ? api.Namespace : null) + "?labelSelector=" + Uri.EscapeDataString(selector)))!;
                targets.AddRange((list["items"]?.AsArray() ?? []).Select(i => (type, i!["metadata"]!["name"]!.GetValue<string>())));
            }
            if (targets.Count == 0) await ctx.Err.WriteLineAsync("No resources found");
        }
        else
        {
            var requests = GetCommand.Requests(ctx.Args.Positionals);
            if (requests.Any(r => r.Name is null))
                throw new UsageException("resource(s) were provided, but no name was specified (use -l selector to delete by label)");
            targets.AddRange(requests.Select(r => (r.Type, r.Name!)));
        }
        var failed = false;
        foreach (var (type, name) in targets)
        {
            try
            {
                await api.Send(HttpMethod.Delete, type.ObjectPath(type.Namespaced ? api.Namespace : null, name) + "?propagationPolicy=Background");
                await ctx.Out.WriteLineAsync($"{type.Qualified} \"{name}\" deleted");
            }
            catch (ServerError e) when (e.Code == 404 && ctx.Args.GetBool("ignore-not-found"))
            {
            }
            catch (ServerError e)
            {
                await ctx.Err.WriteLineAsync(e.Message);
                failed = true;
            }
        }
        return failed ? 1 : 0;
    }
}
