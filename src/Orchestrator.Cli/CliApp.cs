using System.Diagnostics;

namespace Orchestrator.Cli;

/// <summary>
/// orchctl: the single-node cluster's life cycle (up, down, status). The seed's kubectl command lines
/// (run, expose, scale, …) come with issue 7; until then kubectl drives the cluster.
/// </summary>
public static class CliApp
{
    public const string Usage = """
        usage: orchctl <command>
          up                 bring up the single-node cluster (deploy/up.sh)
          down [--purge]     stop it and remove its containers; --purge forgets its objects (deploy/down.sh)
          status             what runs, where, and whether the API answers
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            await stdout.WriteLineAsync(Usage);
            return args.Length == 0 ? 1 : 0;
        }

        var layout = ClusterLayout.FromEnvironment();
        switch (args[0])
        {
            case "up" when args.Length == 1:
                return await RunScript(layout, "up.sh", []);
            case "down" when args.Skip(1).All(a => a == "--purge"):
                return await RunScript(layout, "down.sh", args[1..]);
            case "status" when args.Length == 1:
                return await StatusCommand.RunAsync(layout, stdout);
            default:
                await stderr.WriteLineAsync($"orchctl: unknown command or arguments '{string.Join(' ', args)}' (see orchctl --help)");
                return 2;
        }
    }

    private static async Task<int> RunScript(ClusterLayout layout, string script, string[] args)
    {
        if (layout.RepoRoot is null)
        {
            await Console.Error.WriteLineAsync("orchctl: cannot find the Orchestrator checkout (set ORCH_ROOT)");
            return 2;
        }
        var start = new ProcessStartInfo("bash") { UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(layout.RepoRoot, "deploy", script));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }
}
