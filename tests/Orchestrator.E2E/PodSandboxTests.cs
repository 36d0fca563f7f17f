using System.Diagnostics;
using System.Net;
using Xunit;

namespace Orchestrator.E2E;

/// <summary>
/// Pod sandboxes on a real cluster: a pod's containers share one network namespace (localhost) whose IP is the pod's
/// IP and known to the downward API; the sandbox outlives a node agent killed with SIGKILL (the node process alone: the
/// master and the node as two processes, <see cref="TwoProcessClusterFixture"/>); a sandbox removed behind the node's
/// back is replaced and the pod's containers recreated in it; deleting the pod removes the sandbox too.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class PodSandboxTests(TwoProcessClusterFixture cluster) : IClassFixture<TwoProcessClusterFixture>
{
    private static readonly string Pod = $"shared-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>"web" answers on port 80; "client" (a shell image with wget) prints its POD_IP and waits.</summary>
    private static string PodYaml => $$"""
        apiVersion: v1
        kind: Pod
        metadata: { name: {{Pod}}, labels: { test: pod-sandbox } }
        spec:
          terminationGracePeriodSeconds: 2
          containers:
            - name: web
              image: orchestrator/http-server:latest
              imagePullPolicy: Never
              ports: [ { containerPort: 80 } ]
            - name: client
              image: orchestrator/guestbook:latest
              imagePullPolicy: Never
              command: [sh, -c, 'echo "POD_IP=$POD_IP"; exec sleep 3600']
              env:
                - name: POD_IP
                  valueFrom: { fieldRef: { fieldPath: status.podIP } }
        """;

    [Fact, Step(1)]
    public async Task Containers_of_a_pod_share_localhost_and_POD_IP_from_the_downward_API_is_the_pods_IP()
    {
        var apply = await cluster.KubectlWithInput(PodYaml, "apply", "-f", "-");
        Assert.True(apply.ExitCode == 0, apply.ToString());
        await WaitReady();

        var podIp = await Kubectl("get", "pod", Pod, "-o", "jsonpath={.status.podIP}");
        Assert.True(IPAddress.TryParse(podIp, out _), $"podIP '{podIp}'");
        await AssertSharedNetwork(podIp);
        Assert.Equal("web client", await Kubectl("get", "pod", Pod, "-o", "jsonpath={.status.containerStatuses[*].name}"));

        // the sandbox holds the address: Docker shows it on the sandbox, labelled with the pod, and on no app container
        var sandbox = await Sandbox();
        Assert.Equal(podIp, await Docker("inspect", "-f", "{{ (index .NetworkSettings.Networks \"orchestrator\").IPAddress }}", sandbox));
        // picked by the node from its pod range, not by Docker
        Assert.Equal(podIp, await Docker("inspect", "-f", "{{ (index .NetworkSettings.Networks \"orchestrator\").IPAMConfig.IPv4Address }}", sandbox));
        Assert.Equal(Pod, await Docker("inspect", "-f", "{{ .Config.Hostname }}", sandbox));
        Assert.Equal($"container:{sandbox}", await Docker("inspect", "-f", "{{ .HostConfig.NetworkMode }}", await AppContainer("client")));
    }

    [Fact, Step(2)]
    public async Task A_node_agent_killed_with_SIGKILL_adopts_the_sandbox_and_the_containers()
    {
        var sandbox = await Sandbox();
        const string statusPath = "jsonpath={.status.podIP} {.status.containerStatuses[*].containerID} {.status.containerStatuses[*].restartCount}";
        var before = await Kubectl("get", "pod", Pod, "-o", statusPath);

        var pid = int.Parse((await File.ReadAllTextAsync(Path.Combine(cluster.StateDir, "node.pid"))).Trim());
        var master = int.Parse((await File.ReadAllTextAsync(Path.Combine(cluster.StateDir, "master.pid"))).Trim());
        Assert.NotEqual(master, pid); // two processes (ORCH_ONE_PROCESS=0)
        Process.GetProcessById(pid).Kill(); // SIGKILL
        await cluster.Eventually(() => { Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid)); return Task.CompletedTask; }, "the node agent is gone");
        var up = await cluster.Script("up.sh");
        Assert.True(up.ExitCode == 0, up.ToString());
        Assert.Equal(master, int.Parse((await File.ReadAllTextAsync(Path.Combine(cluster.StateDir, "master.pid"))).Trim())); // ran on

        // the new agent has taken the pod over (its own log: logs/node.log); a few more syncs, and any recreation would
        // show in the status
        await cluster.Eventually(async () => Assert.Contains($"Adopted sandbox of pod default/{Pod}", await File.ReadAllTextAsync(cluster.NodeLog)),
            "the restarted agent adopted the sandbox");
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal(before, await Kubectl("get", "pod", Pod, "-o", statusPath));
        Assert.Equal(sandbox, await Sandbox());
        Assert.Single((await Docker("ps", "-aq", "--filter", $"label=io.orchestrator.pod.name={Pod}", "--filter", "label=io.orchestrator.role=sandbox"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact, Step(3)]
    public async Task A_removed_sandbox_is_replaced_and_the_pods_containers_are_recreated_in_the_new_one()
    {
        var old = await Sandbox();
        var oldIds = await Kubectl("get", "pod", Pod, "-o", "jsonpath={.status.containerStatuses[*].containerID}");
        await Docker("rm", "-f", old);

        await cluster.Eventually(async () =>
        {
            Assert.Equal("1 1", await Kubectl("get", "pod", Pod, "-o", "jsonpath={.status.containerStatuses[*].restartCount}"));
            Assert.Equal("True", await Kubectl("get", "pod", Pod, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"));
        }, "both containers restarted once in a new sandbox and ready", TimeSpan.FromSeconds(60));
        Assert.NotEqual(old, await Sandbox());
        Assert.NotEqual(oldIds, await Kubectl("get", "pod", Pod, "-o", "jsonpath={.status.containerStatuses[*].containerID}"));
        Assert.Contains("SandboxChanged", await Kubectl("get", "events", "--field-selector", $"involvedObject.name={Pod}"));
        await AssertSharedNetwork(await Kubectl("get", "pod", Pod, "-o", "jsonpath={.status.podIP}"));
    }

    [Fact, Step(4)]
    public async Task Deleting_the_pod_removes_its_containers_and_its_sandbox()
    {
        await Kubectl("delete", "pod", Pod, "--wait=true");
        Assert.Empty(await Docker("ps", "-aq", "--filter", $"label=io.orchestrator.node={ClusterFixture.NodeName}",
            "--filter", $"label=io.orchestrator.pod.name={Pod}"));
    }

    [Fact, Step(5)]
    public async Task A_pod_that_has_finished_keeps_its_IP_in_the_status_and_its_logs_but_no_sandbox()
    {
        var job = Pod.Replace("shared-", "done-");
        var yaml = $$"""
            apiVersion: v1
            kind: Pod
            metadata: { name: {{job}}, labels: { test: pod-sandbox } }
            spec:
              restartPolicy: Never
              containers:
                - name: once
                  image: orchestrator/guestbook:latest
                  imagePullPolicy: Never
                  command: [sh, -c, 'echo "POD_IP=$POD_IP"']
                  env:
                    - name: POD_IP
                      valueFrom: { fieldRef: { fieldPath: status.podIP } }
            """;
        var apply = await cluster.KubectlWithInput(yaml, "apply", "-f", "-");
        Assert.True(apply.ExitCode == 0, apply.ToString());
        await cluster.Eventually(async () =>
            Assert.Equal("Succeeded", await Kubectl("get", "pod", job, "-o", "jsonpath={.status.phase}")), $"{job} Succeeded", TimeSpan.FromSeconds(60));
        await cluster.Eventually(async () =>
            Assert.Empty(await Docker("ps", "-aq", "--filter", $"label=io.orchestrator.pod.name={job}", "--filter", "label=io.orchestrator.role=sandbox")),
            "the finished pod's sandbox removed");
        var podIp = await Kubectl("get", "pod", job, "-o", "jsonpath={.status.podIP}");
        Assert.True(IPAddress.TryParse(podIp, out _), $"podIP '{podIp}'");
        Assert.Equal($"POD_IP={podIp}\n", await Kubectl("logs", job));
        await Kubectl("delete", "pod", job, "--wait=true");
        // the API forgets a finished pod at once; its node removes the containers when it learns of it
        await cluster.Eventually(async () => Assert.Empty(await Docker("ps", "-aq", "--filter", $"label=io.orchestrator.pod.name={job}")),
            "the deleted pod's containers removed");
    }

    [Fact, Step(6)]
    public async Task Down_stops_the_node_then_the_master_and_removes_their_pid_files()
    {
        string PidFile(string role) => Path.Combine(cluster.StateDir, role + ".pid");
        var node = (await File.ReadAllTextAsync(PidFile("node"))).Trim();
        var master = (await File.ReadAllTextAsync(PidFile("master"))).Trim();
        var down = await cluster.Script("down.sh");
        Assert.True(down.ExitCode == 0, down.ToString());
        // two processes, each stopped on its own, the node first (one process is one line: "the master and the node")
        var stoppedNode = down.Output.IndexOf($"stopped the node (pid {node})", StringComparison.Ordinal);
        var stoppedMaster = down.Output.IndexOf($"stopped the master (pid {master})", StringComparison.Ordinal);
        Assert.True(stoppedNode >= 0 && stoppedMaster > stoppedNode, down.ToString());
        Assert.False(File.Exists(PidFile("node")) || File.Exists(PidFile("master")), "a pid file is left");
        Assert.Empty(await Docker("ps", "-aq", "--filter", $"label=io.orchestrator.node={ClusterFixture.NodeName}"));
    }

    /// <summary>client reaches web on 127.0.0.1, its POD_IP is the pod's IP, its hostname the pod's name; logs and
    /// exec reach the containers, never the sandbox.</summary>
    private async Task AssertSharedNetwork(string podIp)
    {
        await cluster.Eventually(async () =>
            Assert.Contains($"processed by host: {Pod}", await Kubectl("exec", Pod, "-c", "client", "--", "wget", "-qO-", "http://127.0.0.1:80/")),
            "client reaches web over localhost");
        Assert.Equal($"POD_IP={podIp}\n", await Kubectl("logs", Pod, "-c", "client"));
        Assert.Contains($"POD_IP={podIp}\n", await Kubectl("exec", Pod, "-c", "client", "--", "env"));
        Assert.Equal(Pod, (await Kubectl("exec", Pod, "-c", "client", "--", "hostname")).Trim());
        Assert.Contains("listening on port 80", await Kubectl("logs", Pod, "-c", "web"));
    }

    private async Task WaitReady() =>
        await cluster.Eventually(async () =>
            Assert.Equal("True", await Kubectl("get", "pod", Pod, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")),
            $"{Pod} Ready", TimeSpan.FromSeconds(60));

    private async Task<string> Sandbox() =>
        (await Docker("ps", "-q", "--no-trunc", "--filter", $"label=io.orchestrator.node={ClusterFixture.NodeName}",
            "--filter", $"label=io.orchestrator.pod.name={Pod}", "--filter", "label=io.orchestrator.role=sandbox")).Trim();

    private async Task<string> AppContainer(string name) =>
        (await Docker("ps", "-q", "--no-trunc", "--filter", $"label=io.orchestrator.pod.name={Pod}",
            "--filter", $"label=io.orchestrator.container.name={name}")).Trim();

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }

    private static async Task<string> Docker(params string[] args)
    {
        var result = await Command.Run("docker", args, new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, $"docker {string.Join(" ", args)}: {result}");
        return result.Output.Trim();
    }
}
