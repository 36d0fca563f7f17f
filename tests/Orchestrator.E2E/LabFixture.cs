using System.Text.Json.Nodes;
using Xunit;

namespace Orchestrator.E2E;

/// <summary>
/// Brings up the multi-node lab with deploy/lab/up.sh --nodes 3 in a private state directory, kubeconfig and ports
/// (API 17443, cluster 14060) and takes it down with --purge at the end.
/// </summary>
public sealed class LabFixture() : LabFixtureBase("lab-state", apiPort: 17443, clusterPort: 14060, Context, GraceSeconds), IAsyncLifetime
{
    public const string Context = "orchestrator-lab-e2e";
    public const int NodeCount = 3;
    public const int GraceSeconds = 15;

    public static string NodeName(int index) => $"lab-node-{index}";

    public static string NodeAddress(int index) => $"127.0.0.{10 + index}";

    public async Task InitializeAsync()
    {
        await PrepareAsync();
        var lockFile = Path.Combine(StateDir, "up.lock");
        var up = await Command.Run("flock", ["-w", "60", lockFile, "bash", Path.Combine(RepoRoot, "deploy", "lab", "up.sh"), "--nodes",
            NodeCount.ToString(System.Globalization.CultureInfo.InvariantCulture)], Environment, TimeSpan.FromMinutes(10));
        if (up.ExitCode != 0)
            throw new InvalidOperationException($"deploy/lab/up.sh failed ({up.ExitCode}):\n{up.Output}\n{up.Error}\n{Logs()}");
        UpLockReleased = await ClusterFixture.LockIsFree(lockFile);
    }

    /// <summary>Whether the lock deploy/lab/up.sh ran under was free once it had returned, with the lab running.</summary>
    public bool UpLockReleased { get; private set; }

    public async Task DisposeAsync() => await Lab("down", "--purge");

    public async Task<string> Kubectl(params string[] args)
    {
        var result = await Command.Run("kubectl", ["--context", Context, .. args], Environment, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {result}");
        return result.Output;
    }

    /// <summary>The pods of one app as the API shows them.</summary>
    public async Task<List<LabPod>> Pods(string app)
    {
        var list = JsonNode.Parse(await Kubectl("get", "pods", "-l", $"app={app}", "-o", "json"))!["items"]!.AsArray();
        return list.Select(p => new LabPod(
            p!["metadata"]!["name"]!.GetValue<string>(),
            p["metadata"]!["uid"]!.GetValue<string>(),
            p["spec"]?["nodeName"]?.GetValue<string>() ?? "",
            p["metadata"]?["deletionTimestamp"] is not null,
            p["status"]?["conditions"]?.AsArray().Any(c => c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True") == true,
            p["status"]?["containerStatuses"]?.AsArray().Sum(c => c?["restartCount"]?.GetValue<int>() ?? 0) ?? 0)).ToList();
    }

    /// <summary>The node's Ready condition status (True, False, Unknown).</summary>
    public async Task<string> NodeReady(string node) =>
        (await Kubectl("get", "node", node, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")).Trim();

    /// <summary>Running containers of the app's pods in Docker, over every lab node: (container id, pod name).</summary>
    public static async Task<List<(string Id, string Pod)>> RunningAppContainers(string app)
    {
        var result = await Command.Run("docker",
            ["ps", "--filter", "label=io.orchestrator.container.name=" + AppContainer,
             "--format", "{{.ID}} {{.Label \"io.orchestrator.pod.name\"}} {{.Label \"io.orchestrator.node\"}}"],
            new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .Where(f => f.Length == 3 && f[2].StartsWith("lab-node-", StringComparison.Ordinal) && f[1].StartsWith(app + "-", StringComparison.Ordinal))
            .Select(f => (f[0], f[1])).ToList();
    }

    public static async Task<List<(string Id, string Pod)>> RunningAppContainersOn(string node)
    {
        var result = await Command.Run("docker",
            ["ps", "-q", "--filter", "label=io.orchestrator.node=" + node, "--filter", "label=io.orchestrator.container.name=" + AppContainer],
            new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(id => (id, "")).ToList();
    }

    /// <summary>kubectl create deployment names the container after the image.</summary>
    public const string AppContainer = "docker-http-server";
}

public sealed record LabPod(string Name, string Uid, string Node, bool Terminating, bool Ready, int Restarts);
