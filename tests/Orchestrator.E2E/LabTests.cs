using System.Diagnostics;
using System.Net.Http;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// The multi-node lab (deploy/lab) with three nodes on 127.0.0.11–13: a 6-replica deployment spreads over all of
/// them; the drills kill-node (pods Ready on the others within the grace period + 10 s, fewer than 1% of a steady
/// request stream through a surviving node's NodePort lost), pause-node/resume-node (exactly 6 pods run in Docker
/// afterwards), restart-master (same objects, same containers), add-node (a new node receives new pods) and
/// remove-node. Each drill's detection and rescheduling times are written to the output and to
/// artifacts/lab-drills.txt.
/// </summary>
[Collection(LabFixtureBase.Collection)]
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class LabTests(LabFixture lab, ITestOutputHelper output) : IClassFixture<LabFixture>
{
    private const string App = "lab-web";
    private const int Replicas = 6;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(LabFixture.GraceSeconds + 10);
    private static int _nodePort;

    [Fact, Step(1)]
    public async Task Six_replicas_spread_over_all_three_nodes_and_every_node_serves_the_NodePort()
    {
        var nodes = await lab.Kubectl("get", "nodes", "--no-headers");
        for (var i = 1; i <= LabFixture.NodeCount; i++)
            Assert.Matches($@"(?m)^{LabFixture.NodeName(i)}\s+Ready\s", nodes);

        await lab.Kubectl("create", "deployment", App, "--image=katacoda/docker-http-server:latest", $"--replicas={Replicas}");
        await lab.Kubectl("expose", "deployment", App, "--type=NodePort", "--port=80");
        _nodePort = int.Parse(await lab.Kubectl("get", "svc", App, "-o", "jsonpath={.spec.ports[0].nodePort}"));
        await lab.Eventually(async () => Assert.Equal(Replicas, (await ReadyPods()).Count), "6 Ready pods");

        var perNode = (await ReadyPods()).GroupBy(p => p.Node).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine("pods per node: " + string.Join(", ", perNode.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.Equal(Enumerable.Range(1, 3).Select(LabFixture.NodeName), perNode.Keys.Order());
        for (var i = 1; i <= LabFixture.NodeCount; i++)
        {
            var url = NodePortUrl(i);
            await lab.Eventually(async () => await DemoPage.ServedHost(Http, url), $"an answer on {url}");
        }
        await LogsFromEveryNode();
        Assert.True(lab.UpLockReleased, "deploy/lab/up.sh run under flock left the lock held by the lab's daemons");
    }

    /// <summary>kubectl logs of a pod on each node: the master reaches every node's kubelet endpoint over TLS with that
    /// node's own certificate.</summary>
    private async Task LogsFromEveryNode()
    {
        foreach (var pod in (await ReadyPods()).GroupBy(p => p.Node).Select(g => g.First()))
            await lab.Kubectl("logs", pod.Name); // fails the test unless the relay succeeded
    }

    [Fact, Step(2)]
    public async Task Kill_node_reschedules_its_pods_within_the_grace_period_and_the_stream_through_a_survivor_loses_under_one_percent()
    {
        var victim = LabFixture.NodeName(1);
        var before = await ReadyPods();
        Assert.Contains(before, p => p.Node == victim);

        using var stop = new CancellationTokenSource();
        var stream = RequestStream(NodePortUrl(2), stop.Token);
        await Task.Delay(2000);
        var clock = Stopwatch.StartNew();
        var killed = await lab.Lab("kill-node", victim);
        Assert.True(killed.ExitCode == 0, killed.ToString());
        var (detected, rescheduled) = await Watch(victim, expectedOn: [LabFixture.NodeName(2), LabFixture.NodeName(3)], clock);
        await Task.Delay(3000);
        stop.Cancel();
        var (sent, failed, errors) = await stream;

        Record($"kill-node {victim}: NotReady after {detected:F1} s, {Replicas} pods Ready on the others after {rescheduled:F1} s, " +
               $"requests through {NodePortUrl(2)}: {failed} of {sent} failed ({100.0 * failed / Math.Max(sent, 1):F2}%){errors}");
        Assert.True(rescheduled <= Deadline.TotalSeconds, $"rescheduling took {rescheduled:F1} s, more than grace + 10 s");
        Assert.True(sent >= 50, $"only {sent} requests were sent");
        Assert.True(failed * 100 < sent, $"{failed} of {sent} requests failed");
        Assert.Empty(await LabFixture.RunningAppContainersOn(victim));
    }

    [Fact, Step(3)]
    public async Task A_node_that_comes_back_and_a_new_node_receive_new_pods()
    {
        var back = LabFixture.NodeName(1);
        var added = await lab.Lab("add-node", back);
        Assert.True(added.ExitCode == 0, added.ToString());
        var extra = await lab.Lab("add-node");
        Assert.True(extra.ExitCode == 0, extra.ToString());
        var fresh = LabFixture.NodeName(4);
        Assert.Equal("True", await lab.NodeReady(fresh));

        var old = (await ReadyPods()).Select(p => p.Name).ToHashSet();
        await lab.Kubectl("scale", "deployment", App, $"--replicas={Replicas + 3}");
        await lab.Eventually(async () => Assert.Equal(Replicas + 3, (await ReadyPods()).Count), "9 Ready pods");
        var newPods = (await ReadyPods()).Where(p => !old.Contains(p.Name)).ToList();
        output.WriteLine("new pods on: " + string.Join(", ", newPods.Select(p => p.Node).Order()));
        Assert.Contains(newPods, p => p.Node == back);
        Assert.Contains(newPods, p => p.Node == fresh);

        var removed = await lab.Lab("remove-node", fresh);
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.DoesNotContain(fresh, await lab.Kubectl("get", "nodes", "-o", "name"));
        await lab.Kubectl("scale", "deployment", App, $"--replicas={Replicas}");
        await lab.Eventually(async () =>
        {
            var pods = await lab.Pods(App);
            Assert.Equal(Replicas, pods.Count(p => p.Ready && !p.Terminating));
            Assert.Equal(Replicas, pods.Count);
            Assert.Equal(Replicas, (await LabFixture.RunningAppContainers(App)).Count);
        }, "6 pods on the remaining nodes");
    }

    [Fact, Step(4)]
    public async Task Pause_and_resume_node_leave_exactly_six_pods_running_in_Docker()
    {
        var victim = (await ReadyPods()).GroupBy(p => p.Node).OrderByDescending(g => g.Count()).First().Key;
        var otherIndexes = Enumerable.Range(1, 3).Where(i => LabFixture.NodeName(i) != victim).ToArray();
        var others = otherIndexes.Select(LabFixture.NodeName).ToArray();
        var survivor = NodePortUrl(otherIndexes[0]);
        using var stop = new CancellationTokenSource();
        var stream = RequestStream(survivor, stop.Token);
        await Task.Delay(2000);
        var clock = Stopwatch.StartNew();
        var paused = await lab.Lab("pause-node", victim);
        Assert.True(paused.ExitCode == 0, paused.ToString());
        double detected, rescheduled;
        try
        {
            (detected, rescheduled) = await Watch(victim, expectedOn: others, clock);
        }
        finally
        {
            var resumed = await lab.Lab("resume-node", victim);
            Assert.True(resumed.ExitCode == 0, resumed.ToString());
        }
        var sinceResume = Stopwatch.StartNew();
        await lab.Eventually(async () => Assert.Equal("True", await lab.NodeReady(victim)), $"{victim} Ready again", TimeSpan.FromSeconds(60));
        // the node stops the pods that were recreated elsewhere while it was cut off
        await lab.Eventually(async () => Assert.Empty(await LabFixture.RunningAppContainersOn(victim)), $"{victim} stopped its stale pods",
            TimeSpan.FromSeconds(60));
        var cleaned = sinceResume.Elapsed.TotalSeconds;
        stop.Cancel();
        var (sent, failed, errors) = await stream;
        Record($"pause-node {victim}: NotReady after {detected:F1} s, {Replicas} pods Ready on the others after {rescheduled:F1} s; " +
               $"requests through {survivor} from the pause until the node had rejoined: {failed} of {sent} failed{errors}");
        Assert.True(rescheduled <= Deadline.TotalSeconds, $"rescheduling took {rescheduled:F1} s, more than grace + 10 s");
        Assert.True(failed * 100 < sent, $"{failed} of {sent} requests failed");
        // and stays at exactly six for a while
        for (var i = 0; i < 10; i++)
        {
            var running = await LabFixture.RunningAppContainers(App);
            Assert.Equal(Replicas, running.Count);
            Assert.Equal(Replicas, running.Select(c => c.Pod).Distinct().Count());
            await Task.Delay(500);
        }
        Record($"resume-node {victim}: Ready again and its stale containers stopped {cleaned:F1} s after the resume; 6 containers run");
    }

    [Fact, Step(5)]
    public async Task Restart_master_keeps_every_object_and_every_container()
    {
        var objectsBefore = await Objects();
        var containersBefore = (await LabFixture.RunningAppContainers(App)).OrderBy(c => c.Id).ToList();
        var podsBefore = (await lab.Pods(App)).OrderBy(p => p.Name).ToList();
        Assert.Equal(Replicas, containersBefore.Count);

        using var stop = new CancellationTokenSource();
        var stream = RequestStream(NodePortUrl(2), stop.Token);
        await Task.Delay(2000);
        var clock = Stopwatch.StartNew();
        var restarted = await lab.Lab("restart-master");
        Assert.True(restarted.ExitCode == 0, restarted.ToString());
        var apiBack = clock.Elapsed.TotalSeconds;
        var restartedAt = DateTime.UtcNow;
        await lab.Eventually(async () =>
        {
            foreach (var node in Enumerable.Range(1, 3).Select(LabFixture.NodeName))
            {
                // the node's Lease is its heartbeat (renewed every heartbeat, as the kubelet's); the Node status is
                // written only when it changes or every 5 minutes, so its lastHeartbeatTime may predate the restart
                var heartbeat = DateTime.Parse((await lab.Kubectl("get", "lease", node, "-n", "kube-node-lease", "-o",
                    "jsonpath={.spec.renewTime}")).Trim()).ToUniversalTime();
                Assert.True(heartbeat >= restartedAt.AddSeconds(-1), $"{node}: no heartbeat since the restart");
                Assert.Equal("True", await lab.NodeReady(node));
            }
        }, "every node reporting to the new master", TimeSpan.FromSeconds(90));
        var rejoined = clock.Elapsed.TotalSeconds;
        stop.Cancel();
        var (sent, failed, errors) = await stream;
        Assert.True(failed * 100 < sent, $"{failed} of {sent} requests failed while the master restarted");

        Assert.Equal(objectsBefore, await Objects());
        Assert.Equal(containersBefore, (await LabFixture.RunningAppContainers(App)).OrderBy(c => c.Id).ToList());
        var podsAfter = (await lab.Pods(App)).OrderBy(p => p.Name).ToList();
        Assert.Equal(podsBefore.Select(p => (p.Uid, p.Node, p.Restarts)), podsAfter.Select(p => (p.Uid, p.Node, p.Restarts)));
        await DemoPage.ServedHost(Http, NodePortUrl(2));
        await LogsFromEveryNode(); // the restarted master trusts the certificates it issued (its kubelet CA persists) and issues new ones
        Record($"restart-master: API back after {apiBack:F1} s, all nodes reporting again after {rejoined:F1} s; " +
               $"{objectsBefore.Split('\n').Length} objects and {containersBefore.Count} containers unchanged; " +
               $"requests through {NodePortUrl(2)} meanwhile: {failed} of {sent} failed{errors}");
    }

    [Fact, Step(6)]
    public async Task A_node_without_the_cluster_certificate_cannot_join()
    {
        // the same flags add-node.sh gives a lab node, with a certificate of its own instead of the master's copy
        var pfx = Path.Combine(lab.StateDir, "intruder.pfx");
        using (var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256))
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=orchestrator-cluster", key,
                System.Security.Cryptography.HashAlgorithmName.SHA256);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            await File.WriteAllBytesAsync(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx));
        }
        const string name = "lab-intruder";
        var log = Path.Combine(lab.StateDir, "logs", name + ".log");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
                 {
                     Path.Combine(lab.Environment["ORCH_BUILD_DIR"], "node", "orchestrator-node.dll"), "--name", name,
                     "--address", "127.0.0.40", "--master", $"127.0.0.10:{lab.Environment["ORCH_LAB_CLUSTER_PORT"]}",
                     "--cluster-cert", pfx,
                     "--network", LabFixtureBase.Network, "--bridge", LabFixtureBase.Bridge, "--pod-network", LabFixtureBase.PodNetwork,
                     "--pod-cidr", "172.29.40.0/24", "--healthz-port", "10300", "--resolv-conf", lab.ResolvConf,
                 })
            start.ArgumentList.Add(arg);
        using var intruder = new Process { StartInfo = start };
        var text = new System.Text.StringBuilder();
        var refusals = 0;
        void Append(object? sender, DataReceivedEventArgs line)
        {
            if (line.Data is null) return;
            lock (text)
            {
                text.AppendLine(line.Data);
                // one such line per attempt (Akka's TcpClientHandler), whichever side ended the handshake
                if (line.Data.Contains("TLS handshake failed on channel", StringComparison.Ordinal)) refusals++;
            }
        }
        int Refusals()
        {
            lock (text) return refusals;
        }
        intruder.OutputDataReceived += Append;
        intruder.ErrorDataReceived += Append;
        intruder.Start();
        intruder.BeginOutputReadLine();
        intruder.BeginErrorReadLine();
        try
        {
            // It tries again about every 2 s: watched until its log shows three refused handshakes (three attempts, the
            // last 4.3 s after the first at load 17 on 2026-12-07), never among the nodes, instead of for a fixed 20 s,
            // which showed that it was absent but not that it had tried. The minute bounds its start on a loaded machine.
            var clock = Stopwatch.StartNew();
            while (Refusals() < 3)
            {
                Assert.False(intruder.HasExited, "the intruding node process ended on its own");
                Assert.DoesNotContain(name, await lab.Kubectl("get", "nodes", "-o", "name"));
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the intruding node's log shows {Refusals()} refused TLS handshakes after 60 s");
                await Task.Delay(500);
            }
        }
        finally
        {
            intruder.Kill(entireProcessTree: true);
            await intruder.WaitForExitAsync();
            lock (text) File.WriteAllText(log, text.ToString());
        }
        Assert.DoesNotContain(name, await lab.Kubectl("get", "nodes", "-o", "name"));
        Assert.Equal(3, (await lab.Kubectl("get", "nodes", "--no-headers")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact, Step(7)]
    public async Task The_lab_cleans_up_after_itself()
    {
        await lab.Kubectl("delete", "service", App);
        await lab.Kubectl("delete", "deployment", App);
        await lab.Eventually(async () => Assert.Empty(await LabFixture.RunningAppContainers(App)), "the app's containers gone");
    }

    private async Task<List<LabPod>> ReadyPods() => (await lab.Pods(App)).Where(p => p.Ready && !p.Terminating).ToList();

    private static string NodePortUrl(int node) => $"http://{LabFixture.NodeAddress(node)}:{_nodePort}/";

    /// <summary>Seconds until <paramref name="victim"/> is no longer Ready, and until all replicas are Ready on the expected nodes.</summary>
    private async Task<(double Detected, double Rescheduled)> Watch(string victim, string[] expectedOn, Stopwatch clock)
    {
        double? detected = null;
        await lab.Eventually(async () =>
        {
            if (detected is null && await lab.NodeReady(victim) != "True") detected = clock.Elapsed.TotalSeconds;
            Assert.NotNull(detected);
            var ready = await ReadyPods();
            Assert.Equal(Replicas, ready.Count(p => expectedOn.Contains(p.Node)));
        }, $"{Replicas} Ready pods on {string.Join(", ", expectedOn)}", Deadline + TimeSpan.FromSeconds(30));
        return (detected!.Value, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Sequential requests (a new connection each) until cancelled: how many were sent and failed.</summary>
    private static async Task<(int Sent, int Failed, string Errors)> RequestStream(string url, CancellationToken stop)
    {
        var sent = 0;
        var failed = 0;
        var errors = new Dictionary<string, int>();
        using var http = DemoPage.ConnectionPerRequest(TimeSpan.FromSeconds(5));
        while (!stop.IsCancellationRequested)
        {
            sent++;
            try
            {
                await DemoPage.ServedHost(http, url);
            }
            catch (Exception e)
            {
                failed++;
                var key = e.GetType().Name + ": " + e.Message.Split('\n')[0];
                errors[key] = errors.GetValueOrDefault(key) + 1;
            }
            await Task.Delay(20, CancellationToken.None);
        }
        return (sent, failed, errors.Count == 0 ? "" : " — " + string.Join("; ", errors.Select(kv => $"{kv.Value}× {kv.Key}")));
    }

    /// <summary>Every object of the app with its uid, one per line (status may move on; identity may not).</summary>
    private async Task<string> Objects() =>
        await lab.Kubectl("get", "deployments,replicasets,pods,services,endpoints", "-l", $"app={App}", "-o",
            "jsonpath={range .items[*]}{.kind}/{.metadata.name} {.metadata.uid}{\"\\n\"}{end}");

    private void Record(string line)
    {
        output.WriteLine(line);
        File.AppendAllText(Path.Combine(lab.RepoRoot, "artifacts", "lab-drills.txt"), $"{DateTime.UtcNow:O} {line}\n");
    }
}
