namespace Orchestrator.E2E;

/// <summary>What both lab fixtures share: a private state directory, kubeconfig and ports for deploy/lab/*.sh, the
/// scripts run with them, and the lab's logs for failure messages. The lab can run beside the single-node classes'
/// cluster (see AssemblyInfo.cs): its own Docker network, bridge and pod network (deploy/lab/lib.sh's, named here for
/// the tests that start a node by hand); the single-node fixtures' build directory, which deploy/lib/build.sh builds
/// for one caller at a time (a source edited during a run would still be rebuilt under the other cluster).</summary>
public abstract class LabFixtureBase
{
    /// <summary>The lab classes' collection ([Collection(LabFixtureBase.Collection)] on each): one lab at a time (both
    /// fixtures use lab-node-i on 127.0.0.(10+i) and the master address 127.0.0.10), beside the single-node classes'.</summary>
    public const string Collection = "lab";

    public const string Network = "orchestrator-lab";
    public const string Bridge = "orchlab0";
    public const string PodNetwork = "172.29.0.0/16";

    protected LabFixtureBase(string stateDirName, int apiPort, int clusterPort, string context, int graceSeconds)
    {
        StateDir = Path.Combine(RepoRoot, "artifacts", stateDirName);
        KubeConfig = Path.Combine(StateDir, "kubeconfig");
        Environment = new Dictionary<string, string>
        {
            ["ORCH_LAB_STATE_DIR"] = StateDir,
            ["ORCH_LAB_API_PORT"] = apiPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ORCH_LAB_CLUSTER_PORT"] = clusterPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ORCH_LAB_CONTEXT"] = context,
            ["ORCH_LAB_GRACE"] = graceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ORCH_LAB_NETWORK"] = Network,
            ["ORCH_LAB_BRIDGE"] = Bridge,
            ["ORCH_LAB_POD_NETWORK"] = PodNetwork,
            // the single-node fixtures' build: deploy/lib/build.sh lets one caller at a time build it, the other finds it built
            ["ORCH_BUILD_DIR"] = Path.Combine(RepoRoot, "artifacts", "e2e-state", "bin"),
            ["KUBECONFIG"] = KubeConfig,
            ["ORCH_RESOLV_CONF"] = ResolvConf,
        };
    }

    public string RepoRoot { get; } = ClusterFixture.FindRepoRoot();
    public string StateDir { get; }
    public string KubeConfig { get; }
    public string ResolvConf => Path.Combine(StateDir, "resolv.conf");
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>Makes the state directory with a resolv.conf naming the tests' fake upstream DNS, and takes down any
    /// lab an earlier run left there.</summary>
    protected async Task PrepareAsync()
    {
        Directory.CreateDirectory(StateDir);
        await File.WriteAllTextAsync(ResolvConf, $"nameserver {ClusterFixture.FakeUpstreamDns}\n");
        await Lab("down", "--purge");
    }

    /// <summary>Runs deploy/lab/SCRIPT.sh.</summary>
    public Task<CommandResult> Lab(string script, params string[] args) =>
        Command.Run("bash", [Path.Combine(RepoRoot, "deploy", "lab", script + ".sh"), .. args], Environment, TimeSpan.FromMinutes(10));

    public Task Eventually(Func<Task> assertion, string what, TimeSpan? within = null) => Converge.Eventually(assertion, what, within, Logs);

    /// <summary>The masters' cluster events first (a failure's cause is usually there, and a CI report keeps only the
    /// start of a long message), then the last lines of every log.</summary>
    public string Logs()
    {
        var text = "";
        var logs = Path.Combine(StateDir, "logs");
        if (!Directory.Exists(logs)) return text;
        var paths = Directory.GetFiles(logs, "*.log").Order().ToList();
        text += "--- cluster events in the masters' logs (last 40)\n" + string.Join("\n", ClusterEvents(paths.Where(p => Path.GetFileName(p).StartsWith("master", StringComparison.Ordinal)))) + "\n";
        foreach (var path in paths)
            text += $"--- {Path.GetFileName(path)} (last 25 lines)\n" + string.Join("\n", File.ReadAllLines(path).TakeLast(25)) + "\n";
        return text;
    }

    private static readonly string[] ClusterEventMarks =
    [
        "UNREACHABLE", "as REACHABLE", "SBR took decision", "to [Up]", "Leader is removing", "holds the control plane",
        "no longer holds the control plane", "Self downed", "Singleton manager started", "the leader's feed ended",
    ];

    /// <summary>Membership, downing and control-plane lines of the masters' logs (without Akka's address prefixes, each
    /// cut to 240 characters, named by their log), merged in time order: lines start with their UTC time.</summary>
    private static IEnumerable<string> ClusterEvents(IEnumerable<string> masterLogs) =>
        masterLogs.SelectMany(path => File.ReadLines(path)
                .Where(line => line.Length > 24 && ClusterEventMarks.Any(mark => line.Contains(mark, StringComparison.Ordinal)))
                .Select(line =>
                {
                    var rest = line[24..].Replace("akka.ssl.tcp://orchestrator@", "", StringComparison.Ordinal);
                    return line[..24] + " " + Path.GetFileNameWithoutExtension(path) + rest[..Math.Min(rest.Length, 240)];
                }))
            .Order(StringComparer.Ordinal).TakeLast(40);
}
