namespace Orchestrator.Cli;

/// <summary>Where the single-node cluster keeps its state, with the same defaults and variables as deploy/lib/common.sh.</summary>
internal sealed record ClusterLayout(string? RepoRoot, string StateDir, string ApiAddress, int ApiPort)
{
    public string ApiUrl => $"https://{ApiAddress}:{ApiPort}";

    public static ClusterLayout FromEnvironment(Func<string, string?>? env = null, string? startDirectory = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        var root = env("ORCH_ROOT") ?? FindRepoRoot(startDirectory ?? AppContext.BaseDirectory)
                   ?? FindRepoRoot(Directory.GetCurrentDirectory());
        var state = env("ORCH_STATE_DIR") ?? Path.Combine(root ?? Directory.GetCurrentDirectory(), ".state");
        var port = int.TryParse(env("ORCH_API_PORT"), out var p) ? p : 6443;
        return new ClusterLayout(root, state, env("ORCH_API_ADDRESS") ?? "127.0.0.1", port);
    }

    /// <summary>The pid of a running cluster process ("master" or "node"), or null.</summary>
    public int? RunningPid(string role)
    {
        var file = Path.Combine(StateDir, role + ".pid");
        if (!File.Exists(file) || !int.TryParse(File.ReadAllText(file).Trim(), out var pid)) return null;
        return Directory.Exists($"/proc/{pid}") ? pid : null;
    }

    private static string? FindRepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "deploy", "up.sh"))) return dir.FullName;
        return null;
    }
}
