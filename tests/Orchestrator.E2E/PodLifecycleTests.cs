using System.Diagnostics;
using System.Net.Http;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// The node agent's pod lifecycle against a real cluster, real Docker and real kubectl: CrashLoopBackOff, probes,
/// OOMKilled, logs and exec, graceful deletion, and a node agent killed with SIGKILL while its master runs on (so the
/// master and the node as two processes: <see cref="TwoProcessClusterFixture"/>). The test image is busybox from
/// the machine, imported once (<see cref="Image"/>); every pod has a unique name and is deleted at the end.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class PodLifecycleTests(TwoProcessClusterFixture cluster, ITestOutputHelper output) : IClassFixture<TwoProcessClusterFixture>
{
    public const string Image = "orchestrator-test/e2e-busybox:latest";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];
    private static string Name(string what) => $"{what}-{Suffix}";

    [Fact, Step(1)]
    public async Task A_crashing_container_goes_to_CrashLoopBackOff_with_growing_back_off_and_previous_logs()
    {
        await EnsureImage();
        var pod = Name("crash");
        await Apply(PodYaml(pod, "echo crashing $(date +%s); exit 1"));

        await Eventually(async () =>
        {
            var row = await Kubectl("get", "pod", pod, "--no-headers");
            Assert.Matches($@"^{pod}\s+0/1\s+(CrashLoopBackOff|Error)\s+[2-9]", row);
        }, "two restarts and CrashLoopBackOff in kubectl get pods", TimeSpan.FromSeconds(60));
        // the kubelet's back-off doubles: 10 s after the second crash, then 20 s
        await Eventually(async () =>
            Assert.Contains("back-off 20s", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}")),
            "the back-off grew to 20 s", TimeSpan.FromSeconds(60));
        Assert.Contains("BackOff", await Kubectl("get", "events", "--field-selector", $"involvedObject.name={pod}"));
        Assert.Contains("crashing", await Kubectl("logs", pod, "--previous"));
        await Delete(pod);
    }

    [Fact, Step(2)]
    public async Task A_failing_liveness_probe_restarts_the_container()
    {
        var pod = Name("live");
        await Apply(PodYaml(pod, "touch /tmp/healthy; sleep 3; rm /tmp/healthy; sleep 600", extra: """
            livenessProbe:
              exec: { command: [cat, /tmp/healthy] }
              periodSeconds: 1
              failureThreshold: 2
            """));
        await Eventually(async () =>
            Assert.True(await RestartCount(pod) > 0, "not restarted yet"),
            "the liveness probe restarted the container", TimeSpan.FromSeconds(60));
        var events = await Kubectl("get", "events", "--field-selector", $"involvedObject.name={pod}");
        Assert.Contains("Unhealthy", events);
        Assert.Contains("Liveness probe failed", events);
        Assert.Contains("failed liveness probe, will be restarted", events);
        await Delete(pod);
    }

    [Fact, Step(3)]
    public async Task A_failing_readiness_probe_removes_the_pod_from_the_endpoints_and_the_traffic()
    {
        var pod = Name("ready");
        await Apply(PodYaml(pod, "echo ready-page > /www/index.html; touch /tmp/ready; exec httpd -f -p 80 -h /www", labels: "app: " + pod, extra: """
            ports: [ { containerPort: 80 } ]
            readinessProbe:
              exec: { command: [cat, /tmp/ready] }
              periodSeconds: 1
              failureThreshold: 1
            """) + "\n" + $$"""
            ---
            apiVersion: v1
            kind: Service
            metadata: { name: {{pod}} }
            spec:
              type: NodePort
              selector: { app: {{pod}} }
              ports: [ { port: 80, targetPort: 80, nodePort: 30581 } ]
            """);
        await Eventually(async () => Assert.Contains("ready-page", await Get("http://127.0.0.1:30581/")), "served while ready");
        Assert.NotEmpty(await Kubectl("get", "endpoints", pod, "-o", "jsonpath={.subsets[0].addresses[*].ip}"));

        await Kubectl("exec", pod, "--", "rm", "/tmp/ready");
        await Eventually(async () =>
        {
            Assert.Equal("False", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"));
            Assert.Empty(await Kubectl("get", "endpoints", pod, "-o", "jsonpath={.subsets[0].addresses[*].ip}"));
            Assert.NotEmpty(await Kubectl("get", "endpoints", pod, "-o", "jsonpath={.subsets[0].notReadyAddresses[*].ip}"));
        }, "not ready: moved to notReadyAddresses");
        await Eventually(async () => Assert.DoesNotContain("ready-page", await Get("http://127.0.0.1:30581/")), "no traffic while not ready");
        Assert.Equal("0", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].restartCount}"));

        await Kubectl("delete", "service", pod);
        await Delete(pod);
    }

    [Fact, Step(3)]
    public async Task A_readiness_gate_keeps_the_pod_not_Ready_until_its_condition_is_written()
    {
        var pod = Name("gated");
        await Apply($$"""
            apiVersion: v1
            kind: Pod
            metadata: { name: {{pod}}, labels: { test: pod-lifecycle } }
            spec:
              terminationGracePeriodSeconds: 2
              readinessGates: [ { conditionType: example.com/lb-ready } ]
              containers: [ { name: main, image: {{Image}}, imagePullPolicy: Never, command: [sleep, "600"] } ]
            """);
        await Eventually(async () =>
        {
            Assert.Equal("true", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].ready}"));
            Assert.Equal("False ReadinessGatesNotReady", await Kubectl("get", "pod", pod, "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status} {.status.conditions[?(@.type==\"Ready\")].reason}"));
        }, "containers ready, the pod held back by its gate");
        Assert.Equal("0/1", (await Kubectl("get", "pod", pod, "-o", "wide", "--no-headers")).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[^1]);

        // what the gate's controller does: write its condition through the status subresource
        await Kubectl("patch", "pod", pod, "--subresource=status", "--type=json",
            "-p", """[{"op":"add","path":"/status/conditions/-","value":{"type":"example.com/lb-ready","status":"True"}}]""");
        await Eventually(async () => Assert.Equal("True", await Kubectl("get", "pod", pod, "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")), "Ready once the gate's condition is True");
        Assert.Equal("1/1", (await Kubectl("get", "pod", pod, "-o", "wide", "--no-headers")).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[^1]);
        await Delete(pod);
    }

    [Fact, Step(4)]
    public async Task A_container_over_its_memory_limit_is_OOMKilled()
    {
        var pod = Name("oom");
        await Apply(PodYaml(pod, "x=0123456789; while :; do x=$x$x; done", restartPolicy: "Never", extra: """
            resources: { limits: { memory: 16Mi } }
            """));
        await Eventually(async () =>
            Assert.Equal("OOMKilled", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].state.terminated.reason}")),
            "terminated with reason OOMKilled", TimeSpan.FromSeconds(60));
        Assert.Matches($@"^{pod}\s+0/1\s+OOMKilled\s+0\s", await Kubectl("get", "pod", pod, "--no-headers"));
        await Delete(pod);
    }

    [Fact, Step(5)]
    public async Task Logs_and_exec_work_through_the_master()
    {
        var pod = Name("shell");
        await Apply(PodYaml(pod, "for i in 1 2 3; do echo line-$i; done; exec sleep 600"));
        await WaitRunning(pod);

        await Eventually(async () => Assert.Equal("line-1\nline-2\nline-3\n", await Kubectl("logs", pod)), "kubectl logs");
        Assert.Equal("line-3\n", await Kubectl("logs", pod, "--tail=1"));
        Assert.Equal("line-3\n", await Kubectl("logs", pod, "-c", "main", "--tail=1"));
        Assert.Contains("line-1", await Kubectl("logs", pod, "--since=1h"));
        Assert.Equal("line-1\nline-2\nline-3\n", await Kubectl("logs", pod, "--since-time=2020-01-01T00:00:00Z"));
        Assert.Equal("", await Kubectl("logs", pod, $"--since-time={DateTime.UtcNow.AddHours(1):yyyy-MM-dd'T'HH:mm:ss'Z'}"));
        Assert.Equal("line-1\nli", await Kubectl("logs", pod, "--limit-bytes=9"));
        // one stream alone (PodLogsQuerySplitStreams; kubectl 1.32 has no flag for it): the lines are all stdout
        var logPath = $"/api/v1/namespaces/default/pods/{pod}/log";
        Assert.Equal("line-1\nline-2\nline-3\n", await Kubectl("get", "--raw", $"{logPath}?stream=Stdout"));
        Assert.Equal("", await Kubectl("get", "--raw", $"{logPath}?stream=Stderr"));

        // -f keeps streaming: kubectl is still following (stopped by the timeout) and has printed lines written after it started
        var ticker = Name("ticker");
        await Apply(PodYaml(ticker, "while :; do echo tick $(date +%s%N); sleep 0.3; done"));
        await WaitRunning(ticker);
        var followed = await Command.Run("kubectl", ["--context", ClusterFixture.Context, "logs", "-f", "--tail=1", ticker],
            cluster.Environment, TimeSpan.FromSeconds(3));
        Assert.Equal(-1, followed.ExitCode);
        Assert.True(followed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 3, followed.ToString());
        await Delete(ticker);

        Assert.Equal(pod, (await Kubectl("exec", pod, "--", "hostname")).Trim());
        var failing = await cluster.Kubectl("exec", pod, "--", "sh", "-c", "echo to-stderr >&2; exit 3");
        Assert.Equal(3, failing.ExitCode);
        Assert.Contains("to-stderr", failing.Error);
        var piped = await cluster.KubectlWithInput("hello through stdin\n", "exec", "-i", pod, "--", "cat");
        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.Equal("hello through stdin\n", piped.Output);
        // -it: kubectl wants a terminal; script(1) gives it one, and the remote side gets a tty of its own
        var interactive = await Command.Run("script", ["-qec", $"kubectl --context {ClusterFixture.Context} exec -it {pod} -- busybox tty", "/dev/null"],
            cluster.Environment, TimeSpan.FromSeconds(60), input: "");
        Assert.True(interactive.Output.Contains("/dev/pts/"), interactive.ToString());
        await Delete(pod);
    }

    [Fact, Step(6)]
    public async Task Deleting_a_pod_that_ignores_SIGTERM_takes_its_grace_period_then_it_is_gone()
    {
        var pod = Name("stubborn");
        await Apply(PodYaml(pod, "trap '' TERM; while :; do sleep 1; done", grace: 8));
        await WaitRunning(pod);

        var watch = Stopwatch.StartNew();
        await Kubectl("delete", "pod", pod, "--wait=true");
        watch.Stop();
        output.WriteLine($"delete took {watch.Elapsed.TotalSeconds:0.0}s");
        Assert.InRange(watch.Elapsed.TotalSeconds, 7, 25);
        Assert.Empty(await PodContainers(pod));
        Assert.DoesNotContain(pod, await Kubectl("get", "pods", "-o", "name"));
    }

    [Fact, Step(7)]
    public async Task A_node_agent_killed_with_SIGKILL_adopts_its_containers_when_started_again()
    {
        var pod = Name("survivor");
        var crashy = Name("crashy");
        await Apply(PodYaml(pod, "exec sleep 600"));
        await Apply(PodYaml(crashy, "sleep 2; exit 1"));
        await WaitRunning(pod);
        await Eventually(async () => Assert.True(await RestartCount(crashy) > 0, "not restarted yet"),
            "crashy restarted once", TimeSpan.FromSeconds(30));
        var before = await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}");

        var pidFile = Path.Combine(cluster.StateDir, "node.pid");
        var pid = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim());
        var master = int.Parse((await File.ReadAllTextAsync(Path.Combine(cluster.StateDir, "master.pid"))).Trim());
        Assert.NotEqual(master, pid); // two processes (ORCH_ONE_PROCESS=0)
        Process.GetProcessById(pid).Kill(); // SIGKILL
        await Eventually(() => { Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid)); return Task.CompletedTask; }, "the node agent is gone");
        var crashyRestarts = int.Parse(await Kubectl("get", "pod", crashy, "-o", "jsonpath={.status.containerStatuses[0].restartCount}"));

        // up.sh starts what is missing: the node alone, beside the master that ran on
        var up = await cluster.Script("up.sh");
        Assert.True(up.ExitCode == 0, up.ToString());
        Assert.Contains($"master https://127.0.0.1:16443 (pid {master})", up.Output);
        await Eventually(async () =>
            Assert.Equal(before, await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}")),
            "same container, same restart count");
        Assert.Equal(2, (await PodContainers(pod)).Count); // its container and its sandbox, no duplicates
        // status resumes: the crashing pod's restarts keep counting from where they were
        await Eventually(async () =>
            Assert.True(int.Parse(await Kubectl("get", "pod", crashy, "-o", "jsonpath={.status.containerStatuses[0].restartCount}")) > crashyRestarts),
            "restart counts resume", TimeSpan.FromSeconds(60));
        await Delete(crashy);
        await Delete(pod);
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static string PodYaml(string name, string script, string restartPolicy = "Always", string? labels = null, string extra = "", int grace = 2) => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
          labels: { test: pod-lifecycle{{(labels is null ? "" : ", " + labels)}} }
        spec:
          restartPolicy: {{restartPolicy}}
          terminationGracePeriodSeconds: {{grace}}
          containers:
            - name: main
              image: {{Image}}
              imagePullPolicy: Never
              command: [sh, -c, {{JsonSerializer.Serialize(script)}}]
        {{Indent(extra, "      ")}}
        """;

    private static string Indent(string text, string prefix) =>
        string.Join("\n", text.Split('\n').Select(l => l.Length == 0 ? l : prefix + l));

    private async Task Apply(string yaml)
    {
        var result = await cluster.KubectlWithInput(yaml, "apply", "-f", "-");
        Assert.True(result.ExitCode == 0, result + "\n" + yaml);
    }

    private async Task Delete(string pod) => await cluster.Kubectl("delete", "pod", pod, "--grace-period=0", "--force", "--wait=false");

    private async Task<int> RestartCount(string pod) =>
        int.TryParse(await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].restartCount}"), out var n) ? n : -1;

    private async Task WaitRunning(string pod) =>
        await Eventually(async () => Assert.Equal("Running", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.phase}")),
            $"{pod} Running");

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }

    private static async Task<string> Get(string url)
    {
        try { return await Http.GetStringAsync(url); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return $"(failed: {e.Message})"; }
    }

    private async Task<IReadOnlyList<string>> PodContainers(string pod)
    {
        var result = await Command.Run("docker",
            ["ps", "-aq", "--filter", $"label=io.orchestrator.node={ClusterFixture.NodeName}", "--filter", $"label=io.orchestrator.pod.name={pod}"],
            new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Imports <see cref="Image"/> from the machine's busybox once (other classes' pods use it too).</summary>
    internal static async Task EnsureImage()
    {
        var script = $"""
            set -e
            docker image inspect {Image} >/dev/null 2>&1 && exit 0
            bb=$(command -v busybox || true); [ -n "$bb" ] || {"{"} echo "busybox-static is required"; exit 1; {"}"}
            d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
            mkdir -p "$d/bin" "$d/www" "$d/tmp"; cp "$bb" "$d/bin/busybox"
            for a in sh hostname sleep echo cat httpd ls true false head mkdir touch rm date env; do ln -s busybox "$d/bin/$a"; done
            tar -C "$d" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' --change 'LABEL io.orchestrator.test=e2e' - {Image} >/dev/null
            """;
        var result = await Command.Run("bash", ["-c", script], new Dictionary<string, string>(), TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    private Task Eventually(Func<Task> check, string what, TimeSpan? within = null) =>
        cluster.Eventually(check, what, within ?? TimeSpan.FromSeconds(30));
}
