using Orchestrator.Cli.Commands;
using Orchestrator.Cli.Kube;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli;

/// <summary>
/// orchctl: the seed's kubectl command lines (run, expose, scale, create/apply/delete -f, get, describe, logs) through
/// the KubernetesClient library, and the single-node cluster's life cycle (up, down, status). Every error is one
/// line on stderr and a non-zero exit code.
/// </summary>
internal static class CliApp
{
    private static readonly Dictionary<string, Func<CommandContext, Task<int>>> Handlers = new()
    {
        ["run"] = WorkloadCommands.Run,
        ["expose"] = WorkloadCommands.Expose,
        ["scale"] = WorkloadCommands.Scale,
        ["create"] = ManifestCommands.Create,
        ["apply"] = ManifestCommands.Apply,
        ["get"] = GetCommand.Run,
        ["describe"] = DescribeCommand.Run,
        ["delete"] = DeleteCommand.Run,
        ["logs"] = LogsCommand.Run,
        ["up"] = ClusterCommands.Up,
        ["down"] = ClusterCommands.Down,
        ["lab"] = ClusterCommands.Lab,
        ["status"] = ctx => StatusCommand.RunAsync(ClusterLayout.FromEnvironment(ctx.Env), ctx.Out),
        ["dashboard"] = DashboardCommand.Run,
        ["image"] = ImageCommand.Run,
        ["completion"] = CompletionCommand.Run,
    };

    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr) =>
        RunAsync(args, stdout, stderr, Console.In, Environment.GetEnvironmentVariable);

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin, Func<string, string?> env)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            var topic = args.Length > 1 ? CommandTable.Find(args[1]) : null;
            await stdout.WriteLineAsync(topic is null ? CommandTable.Overview() : CommandTable.Help(topic));
            return args.Length == 0 ? 1 : 0;
        }
        var spec = CommandTable.Find(args[0]);
        if (spec is null)
        {
            await stderr.WriteLineAsync($"error: unknown command \"{args[0]}\" for \"orchctl\" (see 'orchctl --help')");
            return 2;
        }
        try
        {
            var parsed = ParsedArgs.Parse(spec, args[1..]);
            if (parsed.GetBool("help"))
            {
                await stdout.WriteLineAsync(CommandTable.Help(spec));
                return 0;
            }
            if (spec.Name is "up" or "down" or "status" or "dashboard" && parsed.Positionals.Count > 0)
                throw new UsageException($"unexpected argument \"{parsed.Positionals[0]}\"");
            return await Handlers[spec.Name](new CommandContext(parsed, stdout, stderr, stdin, env));
        }
        catch (UsageException e)
        {
            await stderr.WriteLineAsync($"error: {e.Message} (see 'orchctl {spec.Name} --help')");
            return 1;
        }
        catch (CliException e)
        {
            await stderr.WriteLineAsync(e.Message);
            return 1;
        }
        catch (ServerError e)
        {
            await stderr.WriteLineAsync(e.Message);
            return 1;
        }
    }
}
