using System.Diagnostics;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// orchctl up / down / lab: run deploy/up.sh, down.sh or the lab's scripts and relay their output live, timing each "• step" line the
/// scripts print, then a summary of the steps and of what runs where (orchctl status).
/// </summary>
internal static class ClusterCommands
{
    public static async Task<int> Up(CommandContext ctx) => await RunScript(ctx, "up.sh", ctx.Args.GetBool("registry") ? ["--registry"] : []);

    public static async Task<int> Down(CommandContext ctx) =>
        await RunScript(ctx, "down.sh", ctx.Args.GetBool("purge") ? ["--purge"] : []);

    /// <summary>orchctl lab SUBCOMMAND: the multi-node lab's scripts (deploy/lab/*.sh) with the same live progress.</summary>
    public static async Task<int> Lab(CommandContext ctx)
    {
        var positionals = ctx.Args.Positionals;
        if (positionals.Count == 0)
            throw new UsageException($"name a lab command: {string.Join(", ", LabCommands.Keys)}");
        if (!LabCommands.TryGetValue(positionals[0], out var arity))
            throw new UsageException($"unknown lab command \"{positionals[0]}\" (one of: {string.Join(", ", LabCommands.Keys)})");
        var operands = positionals.Skip(1).ToList();
        if (operands.Count < arity.Min || operands.Count > arity.Max)
            throw new UsageException(arity.Max == 0
                ? $"lab {positionals[0]} takes no arguments"
                : $"lab {positionals[0]} needs {(arity.Min == 1 ? "a " : "at most one ")}{(positionals[0].EndsWith("-master", StringComparison.Ordinal) ? "master" : "node")} name");
        var args = new List<string>(operands);
        if (ctx.Args.GetInt("nodes") is { } nodes)
        {
            if (positionals[0] != "up") throw new UsageException("--nodes goes with lab up");
            args.AddRange(["--nodes", nodes.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        if (ctx.Args.GetInt("masters") is { } masters)
        {
            if (positionals[0] != "up") throw new UsageException("--masters goes with lab up");
            args.AddRange(["--masters", masters.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        if (ctx.Args.GetBool("registry"))
        {
            if (positionals[0] != "up") throw new UsageException("--registry goes with lab up");
            args.Add("--registry");
        }
        if (ctx.Args.GetBool("purge"))
        {
            if (positionals[0] != "down") throw new UsageException("--purge goes with lab down");
            args.Add("--purge");
        }
        return await RunScript(ctx, Path.Combine("lab", positionals[0] + ".sh"), args.ToArray());
    }

    /// <summary>Lab commands and how many node names each takes.</summary>
    public static readonly IReadOnlyDictionary<string, (int Min, int Max)> LabCommands = new Dictionary<string, (int, int)>
    {
        ["up"] = (0, 0), ["down"] = (0, 0), ["status"] = (0, 0), ["add-node"] = (0, 1), ["remove-node"] = (1, 1),
        ["kill-node"] = (1, 1), ["pause-node"] = (1, 1), ["resume-node"] = (1, 1), ["restart-master"] = (0, 1),
        ["kill-master"] = (1, 1), ["pause-master"] = (1, 1), ["resume-master"] = (1, 1),
    };

    private static async Task<int> RunScript(CommandContext ctx, string script, string[] args)
    {
        var layout = ClusterLayout.FromEnvironment(ctx.Env);
        if (layout.RepoRoot is null)
        {
            await ctx.Err.WriteLineAsync("error: cannot find the Orchestrator checkout (run orchctl from it, or set ORCH_ROOT)");
            return 2;
        }
        var start = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(layout.RepoRoot, "deploy", script));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var progress = new StepProgress(ctx.Out);
        using var process = Process.Start(start)!;
        var stderr = Relay(process.StandardError, line => ctx.Err.WriteLineAsync(line));
        await Relay(process.StandardOutput, progress.OnLine);
        await stderr;
        await process.WaitForExitAsync();
        await progress.Finish(process.ExitCode == 0);
        if (process.ExitCode == 0 && script == "up.sh")
        {
            await ctx.Out.WriteLineAsync();
            await StatusCommand.RunAsync(layout, ctx.Out);
        }
        return process.ExitCode;
    }

    private static async Task Relay(StreamReader reader, Func<string, Task> onLine)
    {
        while (await reader.ReadLineAsync() is { } line) await onLine(line);
    }
}

/// <summary>Times the scripts' "• step" lines: each step is printed when it starts and ticked with its duration when the next begins.</summary>
internal sealed class StepProgress(TextWriter output)
{
    private readonly Stopwatch _total = Stopwatch.StartNew();
    private readonly Stopwatch _step = new();
    private readonly List<(string Name, TimeSpan Took)> _done = [];
    private string? _current;

    public async Task OnLine(string line)
    {
        if (line.StartsWith("• ", StringComparison.Ordinal))
        {
            await EndStep("✓");
            _current = line[2..];
            _step.Restart();
            await output.WriteLineAsync($"[{_done.Count + 1}] {_current} …");
        }
        else if (line.Length > 0)
            await output.WriteLineAsync("    " + line);
        await output.FlushAsync();
    }

    public async Task Finish(bool succeeded)
    {
        await EndStep(succeeded ? "✓" : "✗");
        if (_done.Count == 0) return;
        await output.WriteLineAsync();
        await output.WriteLineAsync($"Summary ({(succeeded ? "done" : "FAILED")} in {_total.Elapsed.TotalSeconds:0.0}s):");
        foreach (var (name, took) in _done) await output.WriteLineAsync($"  {took.TotalSeconds,6:0.0}s  {name}");
    }

    public IReadOnlyList<(string Name, TimeSpan Took)> Steps => _done;

    private async Task EndStep(string mark)
    {
        if (_current is null) return;
        _done.Add((_current, _step.Elapsed));
        await output.WriteLineAsync($"    {mark} {_current} ({_step.Elapsed.TotalSeconds:0.0}s)");
        _current = null;
    }
}
