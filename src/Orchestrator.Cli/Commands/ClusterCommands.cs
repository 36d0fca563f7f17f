using System.Diagnostics;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// orchctl up / down: run deploy/up.sh or down.sh and relay their output live, timing each "• step" line the
/// scripts print, then a summary of the steps and of what runs where (orchctl status).
/// </summary>
public static class ClusterCommands
{
    public static async Task<int> Up(CommandContext ctx) => await RunScript(ctx, "up.sh", []);

    public static async Task<int> Down(CommandContext ctx) =>
        await RunScript(ctx, "down.sh", ctx.Args.GetBool("purge") ? ["--purge"] : []);

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
public sealed class StepProgress(TextWriter output)
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
