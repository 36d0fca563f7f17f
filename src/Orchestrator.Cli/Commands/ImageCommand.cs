using k8s;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// orchctl image push IMAGE: tags a local image for the cluster's registry (deploy/up.sh --registry, default
/// 127.0.0.1:5000; --registry or ORCH_REGISTRY for another) and pushes it with the docker CLI, then prints the names a
/// pod can use — by tag and by digest. The nodes pull it from there like any registry image.
/// orchctl image load IMAGE (kind load docker-image): makes a local image available to every node without a registry.
/// The nodes of deploy/up.sh and of the lab run on this machine and share its Docker engine, so an image in its store is
/// in theirs: load checks the image and each node's address, and refuses (naming them) nodes on other machines, whose
/// engines it cannot reach — push to the cluster registry for those.
/// </summary>
internal static partial class ImageCommand
{
    public const string DefaultRegistry = "127.0.0.1:5000";

    public static async Task<int> Run(CommandContext ctx)
    {
        var positionals = ctx.Args.Positionals;
        if (positionals.Count == 0 || positionals[0] is not ("push" or "load"))
            throw new UsageException(positionals.Count == 0 ? "name an image command: push, load" : $"unknown image command \"{positionals[0]}\" (one of: push, load)");
        if (positionals.Count != 2) throw new UsageException($"image {positionals[0]} needs one IMAGE");
        if (positionals[0] == "load") return await LoadAsync(ctx, positionals[1]);
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

    private static async Task<int> LoadAsync(CommandContext ctx, string image)
    {
        var (code, id) = await DockerAsync("image", "inspect", "--format", "{{.Id}}", image);
        if (code != 0) throw new CliException($"error: image \"{image}\" is not in this machine's Docker store (docker build or docker pull it first)");
        using var api = ctx.Connect();
        var nodes = await api.Call(() => api.Client.CoreV1.ListNodeAsync());
        if (nodes.Items.Count == 0) throw new CliException("error: the cluster has no nodes");
        var local = LocalAddresses();
        var remote = new List<string>();
        foreach (var node in nodes.Items.OrderBy(n => n.Metadata.Name, StringComparer.Ordinal))
        {
            var address = node.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address;
            if (address is not null && IsLocal(address, local))
                await ctx.Out.WriteLineAsync($"{node.Metadata.Name}: {image} ({id.Trim()[..Math.Min(19, id.Trim().Length)]}) is in its Docker store (this machine's engine)");
            else remote.Add($"{node.Metadata.Name} ({address ?? "no address"})");
        }
        if (remote.Count > 0)
            throw new CliException($"error: cannot load into node(s) on other machines: {string.Join(", ", remote)}: their Docker engines are " +
                                   "not reachable from here; push the image to the cluster registry instead (orchctl image push " + image + ")");
        if (image.Split('/').Last() is var last && (!last.Contains(':') || last.EndsWith(":latest", StringComparison.Ordinal)))
            await ctx.Out.WriteLineAsync("note: a :latest image is pulled first (imagePullPolicy Always); set imagePullPolicy: IfNotPresent or use another tag");
        return 0;
    }

    internal static bool IsLocal(string address, IReadOnlySet<System.Net.IPAddress> local) =>
        System.Net.IPAddress.TryParse(address, out var ip) && (System.Net.IPAddress.IsLoopback(ip) || local.Contains(ip));

    private static HashSet<System.Net.IPAddress> LocalAddresses() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address).ToHashSet();

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
