using System.Diagnostics;
using System.Text.RegularExpressions;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// orchctl image push IMAGE: tags a local image for the cluster's registry (deploy/up.sh --registry, default
/// 127.0.0.1:5000; --registry or ORCH_REGISTRY for another) and pushes it with the docker CLI, then prints the names a
/// pod can use — by tag and by digest. The nodes pull it from there like any registry image.
/// </summary>
internal static partial class ImageCommand
{
    public const string DefaultRegistry = "127.0.0.1:5000";

    public static async Task<int> Run(CommandContext ctx)
    {
        var positionals = ctx.Args.Positionals;
        if (positionals.Count == 0 || positionals[0] != "push")
            throw new UsageException(positionals.Count == 0 ? "name an image command: push" : $"unknown image command \"{positionals[0]}\" (one of: push)");
        if (positionals.Count != 2) throw new UsageException("image push needs one IMAGE");
        var registry = ctx.Args.Get("registry") ?? ctx.Env("ORCH_REGISTRY") ?? DefaultRegistry;
        var target = TargetName(positionals[1], registry);

        var (tagCode, tagOutput) = await DockerAsync("tag", positionals[1], target);
        if (tagCode != 0) throw new CliException($"error: cannot tag {positionals[1]}: {tagOutput.Trim()}");
        var (pushCode, pushOutput) = await DockerAsync("push", target);
        if (pushCode != 0)
            throw new CliException($"error: pushing {target} failed: {LastLine(pushOutput)} (is the registry running? deploy/up.sh --registry)");
        var digest = DigestPattern().Match(pushOutput) is { Success: true } m ? m.Groups[1].Value : null;
        await ctx.Out.WriteLineAsync($"pushed {target}{(digest is null ? "" : $" ({digest})")}");
        await ctx.Out.WriteLineAsync($"use it in a pod as: {target}");
        if (digest is not null) await ctx.Out.WriteLineAsync($"               or: {target[..RepositoryEnd(target)]}@{digest}");
        return 0;
    }

    /// <summary>"app:v1" → "REGISTRY/app:v1"; a name on another registry keeps its path ("ghcr.io/x/app" → "REGISTRY/x/app:latest").</summary>
    public static string TargetName(string image, string registry)
    {
        if (image.Contains('@')) throw new UsageException("push a tagged image, not a digest (the registry gives the digest)");
        var slash = image.IndexOf('/');
        var path = slash > 0 && (image[..slash].Contains('.') || image[..slash].Contains(':') || image[..slash] == "localhost") ? image[(slash + 1)..] : image;
        if (path.StartsWith("library/", StringComparison.Ordinal)) path = path[8..];
        var tagged = path.LastIndexOf(':') > path.LastIndexOf('/') ? path : path + ":latest";
        if (tagged.Length == 0 || tagged.StartsWith(':')) throw new UsageException($"\"{image}\" is not an image name");
        return $"{registry.TrimEnd('/')}/{tagged}";
    }

    private static int RepositoryEnd(string name) => name.LastIndexOf(':') > name.LastIndexOf('/') ? name.LastIndexOf(':') : name.Length;

    private static string LastLine(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output";

    private static async Task<(int Code, string Output)> DockerAsync(params string[] args)
    {
        var start = new ProcessStartInfo("docker") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception) { throw new CliException("error: the docker CLI is not on PATH"); }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await stdout + await stderr);
        }
    }

    [GeneratedRegex(@"digest: (sha256:[0-9a-f]{64})")]
    private static partial Regex DigestPattern();
}
