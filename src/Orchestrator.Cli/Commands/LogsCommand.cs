using k8s;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Commands;

/// <summary>orchctl logs POD: the pods/{name}/log subresource through the library's typed operation.</summary>
internal static class LogsCommand
{
    public static async Task<int> Run(CommandContext ctx)
    {
        var p = ctx.Args.Positionals;
        if (p.Count != 1) throw new UsageException("logs needs exactly one pod name (see 'orchctl logs --help')");
        var name = p[0].StartsWith("pod/", StringComparison.Ordinal) || p[0].StartsWith("pods/", StringComparison.Ordinal) ? p[0][(p[0].IndexOf('/') + 1)..] : p[0];
        using var api = ctx.Connect();
        var container = ctx.Args.Get("container");
        var follow = ctx.Args.GetBool("follow");
        var tail = ctx.Args.GetInt("tail");
        await using var stream = await api.Call(() => api.Client.CoreV1.ReadNamespacedPodLogAsync(name, api.Namespace,
            container: container, follow: follow, tailLines: tail is null or < 0 ? null : tail));
        using var reader = new StreamReader(stream);
        var buffer = new char[8192];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            await ctx.Out.WriteAsync(buffer.AsMemory(0, read));
            if (follow) await ctx.Out.FlushAsync();
        }
        return 0;
    }
}
