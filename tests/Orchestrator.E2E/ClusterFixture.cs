using System.Diagnostics;
using Xunit;

namespace Orchestrator.E2E;

/// <summary>
/// Brings up a real single-node cluster with deploy/up.sh in a private state directory, kubeconfig and ports,
/// so the tests never touch the user's own cluster or ~/.kube/config, and takes it down with --purge at the end.
/// The master and the node run in one process, up.sh's default (<see cref="TwoProcessClusterFixture"/>: two).
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    /// <summary>Whether up.sh runs the master and the node in one process (ORCH_ONE_PROCESS=1, its default) or in two
    /// (<see cref="TwoProcessClusterFixture"/>).</summary>
    public virtual bool OneProcess => true;

    /// <summary>The log the master writes: logs/all-in-one.log in one process, logs/master.log in two.</summary>
    public string MasterLog => Path.Combine(StateDir, "logs", OneProcess ? "all-in-one.log" : "master.log");

    /// <summary>The log the node writes: logs/all-in-one.log in one process, logs/node.log in two.</summary>
    public string NodeLog => Path.Combine(StateDir, "logs", OneProcess ? "all-in-one.log" : "node.log");

    public string RepoRoot { get; } = FindRepoRoot();
    public string StateDir { get; }
    public string KubeConfig { get; }
    public const string Context = "orchestrator-e2e";
    public const string NodeName = "e2e-node";

    public ClusterFixture()
    {
        StateDir = Path.Combine(RepoRoot, "artifacts", "e2e-state");
        KubeConfig = Path.Combine(StateDir, "kubeconfig");
    }

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["ORCH_STATE_DIR"] = StateDir,
        ["ORCH_API_PORT"] = "16443",
        ["ORCH_CLUSTER_PORT"] = "14050",
        ["ORCH_CONTEXT"] = Context,
        ["ORCH_NODE_NAME"] = NodeName,
        ["KUBECONFIG"] = KubeConfig,
        // cluster DNS forwards other names only to the fake upstream some tests run (never a real resolver)
        ["ORCH_RESOLV_CONF"] = ResolvConf,
        ["ORCH_HEALTHZ_PORT"] = "10348", // not the default: a hand-started cluster may hold 10248
        // nor 80/443 and 127.0.100.0/24, which a hand-started cluster's ingress and load balancers hold
        ["ORCH_INGRESS_HTTP_PORT"] = IngressHttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ORCH_INGRESS_HTTPS_PORT"] = IngressHttpsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ORCH_LOAD_BALANCER_POOL"] = LoadBalancerPool,
        ["ORCH_BIN_DIR"] = Path.Combine(StateDir, "path"), // deploy/up.sh links orchctl here, not in /usr/local/bin
        ["ORCH_ONE_PROCESS"] = OneProcess ? "1" : "0",
        // The node samples resource usage every 2 s instead of the kubelet's 10 s, and the autoscaler syncs every 5 s
        // instead of kube-controller-manager's 15 s (the processes' flags as environment variables, which deploy/up.sh
        // passes on): kubectl top and the autoscaler's scaling wait for samples and syncs, and
        // ResourceMetricsTests waited for them for about a minute of CI's run. Rates are over the window between two
        // samples whatever its length; the scale-down stabilization window the test sets (15 s) is unchanged.
        ["ORCHESTRATOR_NODE_HOUSEKEEPING_INTERVAL"] = "2",
        ["ORCHESTRATOR_MASTER_HORIZONTAL_POD_AUTOSCALER_SYNC_PERIOD"] = "5",
    };

    public const int IngressHttpPort = 10380;
    public const int IngressHttpsPort = 10743;
    public const string LoadBalancerPool = "127.0.101.0/24";

    /// <summary>Where a test's fake upstream DNS server listens (port 53); the node's resolv.conf names it.</summary>
    public const string FakeUpstreamDns = "127.0.0.77";

    public string ResolvConf => Path.Combine(StateDir, "resolv.conf");

    /// <summary>Whether the lock deploy/up.sh ran under (<c>flock FILE deploy/up.sh</c>) was free once it had returned,
    /// with the cluster running: its daemons must not inherit the caller's descriptors.</summary>
    public bool UpLockReleased { get; private set; }

    /// <summary>Whether the last class's fixture took the cluster down with --purge (exit 0) and nothing has started it
    /// since: the next class's start skips its own down.sh --purge, which would find nothing to stop or remove. Only this
    /// class starts the cluster in this state directory, and classes run one after another (AssemblyInfo.cs).</summary>
    private static bool s_purgedByLastFixture;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(StateDir);
        await File.WriteAllTextAsync(ResolvConf, $"nameserver {FakeUpstreamDns}\n");
        if (!s_purgedByLastFixture) await Script("down.sh", "--purge");
        s_purgedByLastFixture = false;
        var up = await UnderLock(Path.Combine(StateDir, "up.lock"), "up.sh");
        if (up.ExitCode != 0)
            throw new InvalidOperationException($"deploy/up.sh failed ({up.ExitCode}):\n{up.Output}\n{up.Error}\n{Logs()}");
        UpLockReleased = await LockIsFree(Path.Combine(StateDir, "up.lock"));
    }

    /// <summary>deploy/SCRIPT under <c>flock LOCK</c>, as a caller serialising cluster starts runs it.</summary>
    public Task<CommandResult> UnderLock(string lockFile, string script, params string[] args) =>
        Command.Run("flock", ["-w", "60", lockFile, "bash", Path.Combine(RepoRoot, "deploy", script), .. args], Environment, TimeSpan.FromMinutes(10));

    public static async Task<bool> LockIsFree(string lockFile) =>
        (await Command.Run("flock", ["-n", lockFile, "true"], new Dictionary<string, string>(), TimeSpan.FromSeconds(30))).ExitCode == 0;

    public async Task DisposeAsync() => s_purgedByLastFixture = (await Script("down.sh", "--purge")).ExitCode == 0;

    public Task<CommandResult> Script(string name, params string[] args) =>
        Command.Run("bash", [Path.Combine(RepoRoot, "deploy", name), .. args], Environment, TimeSpan.FromMinutes(10));

    public Task<CommandResult> Kubectl(params string[] args) =>
        Command.Run("kubectl", ["--context", Context, .. args], Environment, TimeSpan.FromMinutes(2));

    public Task<CommandResult> KubectlWithInput(string input, params string[] args) =>
        Command.Run("kubectl", ["--context", Context, .. args], Environment, TimeSpan.FromMinutes(2), input);

    /// <summary>Retries an assertion until it holds (see <see cref="Converge.Eventually"/>), 90 s by default.</summary>
    public Task Eventually(Func<Task> assertion, string what, TimeSpan? within = null) =>
        Converge.Eventually(assertion, what, within, Logs);

    /// <summary>The pod names of the containers running on the E2E node, one per container (pod sandboxes left out),
    /// from Docker's labels.</summary>
    public static async Task<List<string>> PodNamesOnNode()
    {
        var result = await Command.Run("docker",
            ["ps", "--filter", $"label=io.orchestrator.node={NodeName}", "--format", "{{.Label \"io.orchestrator.pod.name\"}} {{.Label \"io.orchestrator.role\"}}"],
            new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length < 2 || fields[1] != "sandbox")
            .Select(fields => fields[0])
            .ToList();
    }

    /// <summary>The tail of both processes' logs (or the one process's), for failure messages.</summary>
    public string Logs()
    {
        var text = "";
        foreach (var role in new[] { "master", "node", "all-in-one" })
        {
            var path = Path.Combine(StateDir, "logs", role + ".log");
            if (!File.Exists(path)) continue;
            var lines = File.ReadAllLines(path);
            text += $"--- {role}.log (last 40 lines)\n" + string.Join("\n", lines.TakeLast(40)) + "\n";
        }
        return text;
    }

    public static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Orchestrator.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>The same single-node cluster with the master and the node as two processes (deploy/up.sh with
/// ORCH_ONE_PROCESS=0: orchestrator-master and orchestrator-node, each with its pid file and log), in the same state
/// directory, build and ports: for the classes that kill the node process alone (node.pid) and start it again beside
/// the running master, to see it adopt its containers.</summary>
public sealed class TwoProcessClusterFixture : ClusterFixture
{
    public override bool OneProcess => false;
}

/// <summary>
/// Single-node classes that share one cluster (a collection fixture: one deploy/up.sh for all of them, one down.sh
/// --purge at the end) instead of a cluster each: a start and stop costs about 8 s, more than most of these classes'
/// tests take. Only classes that cannot see each other's work belong here: each keeps everything in namespaces (and
/// cluster-scoped objects under names) of its own with a unique suffix and deletes them at the end, restarts neither the
/// master nor the node, and asserts nothing about the cluster as a whole (every pod or container on the node, every
/// event, the list of namespaces, API resources or CRDs beyond its own). A class that stops, restarts or fills the cluster,
/// or counts what runs on it, keeps its own ClusterFixture (IClassFixture).
/// </summary>
[CollectionDefinition(Name)]
public sealed class SharedClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "shared single-node cluster";
}

public sealed record CommandResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

public static class Command
{
    public static Task<CommandResult> Run(string file, IEnumerable<string> args,
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout, string? input = null) =>
        Run(file, args, environment, timeout, input, until: null);

    /// <summary>Runs a command that does not end by itself (a watch) until its output so far satisfies
    /// <paramref name="until"/>, then ends it (SIGKILL), or until <paramref name="timeout"/> passes as
    /// <see cref="Run(string, IEnumerable{string}, IReadOnlyDictionary{string, string}, TimeSpan, string?)"/> does. The
    /// caller asserts on the output as it would on a watch that ran the whole timeout.</summary>
    public static Task<CommandResult> RunUntil(string file, IEnumerable<string> args,
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout, Func<string, bool> until) =>
        Run(file, args, environment, timeout, input: null, until);

    private static async Task<CommandResult> Run(string file, IEnumerable<string> args,
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout, string? input, Func<string, bool>? until)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + file);
        var stdout = until is null ? process.StandardOutput.ReadToEndAsync() : ReadUntil(process, until);
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return new CommandResult(-1, await stdout, await stderr + $"\n(timed out after {timeout})");
        }
        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Reads the process's output to its end, ending the process once the output read so far satisfies
    /// <paramref name="until"/>.</summary>
    private static async Task<string> ReadUntil(Process process, Func<string, bool> until)
    {
        var text = new System.Text.StringBuilder();
        var buffer = new char[4096];
        int read;
        var ended = false;
        while ((read = await process.StandardOutput.ReadAsync(buffer)) > 0)
        {
            text.Append(buffer, 0, read);
            if (!ended && until(text.ToString()))
            {
                ended = true;
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } // it ended by itself
            }
        }
        return text.ToString();
    }
}
