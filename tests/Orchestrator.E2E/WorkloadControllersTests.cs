using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// The workload controllers on a real cluster started by deploy/up.sh, driven by kubectl: a Job runs to completion
/// (<c>kubectl create job</c>, <c>kubectl wait --for=condition=complete</c>, <c>kubectl logs job/x</c>) and an Indexed one
/// runs each index once; a CronJob fires within 90 s and <c>kubectl create job --from=cronjob/x</c> works; a DaemonSet
/// puts one pod on the node and rolls out and back (<c>kubectl rollout status|history|undo</c>); a StatefulSet of 2 creates
/// its ordinal pods in order, one claim each whose data outlives the pod, and DNS names through its headless Service; a PodDisruptionBudget makes <c>kubectl drain</c> wait instead of evicting. The image is a busybox; every object has a unique name and is deleted at the end.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class WorkloadControllersTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private const string Image = "orchestrator-test/e2e-workloads-busybox:latest";
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];
    private static string Name(string what) => $"{what}-{Suffix}";

    [Fact, Step(1)]
    public async Task A_job_runs_to_completion_and_an_indexed_job_runs_each_index_once()
    {
        await EnsureImage();
        var pi = Name("pi");
        var indexed = Name("idx");
        try
        {
            await Kubectl("create", "job", pi, $"--image={Image}", "--", "sh", "-c", "echo 3.14159");
            await Kubectl("wait", "--for=condition=complete", $"job/{pi}", "--timeout=90s");
            Assert.Contains("3.14159", await Kubectl("logs", $"job/{pi}"));
            Assert.Equal("1", await Kubectl("get", "job", pi, "-o", "jsonpath={.status.succeeded}"));
            Assert.Contains("Complete", await Kubectl("get", "job", pi));

            await Apply($$"""
                apiVersion: batch/v1
                kind: Job
                metadata: { name: {{indexed}} }
                spec:
                  completions: 3
                  parallelism: 2
                  completionMode: Indexed
                  template:
                    spec:
                      restartPolicy: Never
                      containers:
                      - name: work
                        image: {{Image}}
                        command: ["sh", "-c", "echo index=$JOB_COMPLETION_INDEX"]
                """);
            await Kubectl("wait", "--for=condition=complete", $"job/{indexed}", "--timeout=90s");
            Assert.Equal("0-2", await Kubectl("get", "job", indexed, "-o", "jsonpath={.status.completedIndexes}"));
            var pods = JsonNode.Parse(await Kubectl("get", "pods", "-l", $"batch.kubernetes.io/job-name={indexed}", "-o", "json"))!["items"]!.AsArray();
            Assert.Equal(3, pods.Count);
            var logs = new List<string>();
            foreach (var pod in pods) logs.Add((await Kubectl("logs", pod!["metadata"]!["name"]!.GetValue<string>())).Trim());
            Assert.Equal(["index=0", "index=1", "index=2"], logs.Order());
        }
        finally
        {
            await cluster.Kubectl("delete", "job", pi, indexed, "--ignore-not-found", "--wait=false");
        }
    }

    [Fact, Step(2)]
    public async Task A_cron_job_fires_on_its_schedule_and_a_job_can_be_made_from_it()
    {
        await EnsureImage();
        var cron = Name("tick");
        var manual = Name("manual");
        try
        {
            await Kubectl("create", "cronjob", cron, $"--image={Image}", "--schedule=*/1 * * * *", "--", "sh", "-c", "echo tick");
            await Kubectl("create", "job", manual, $"--from=cronjob/{cron}");
            await Kubectl("wait", "--for=condition=complete", $"job/{manual}", "--timeout=90s");
            Assert.Contains("tick", await Kubectl("logs", $"job/{manual}"));

            string? scheduled = null;
            await Eventually(async () =>
            {
                var jobs = JsonNode.Parse(await Kubectl("get", "jobs", "-o", "json"))!["items"]!.AsArray();
                scheduled = jobs.Select(j => j!["metadata"]!).Where(m => m["name"]!.GetValue<string>().StartsWith(cron + "-")
                        && m["annotations"]?["batch.kubernetes.io/cronjob-scheduled-timestamp"] is not null
                        && m["ownerReferences"]?[0]?["name"]?.GetValue<string>() == cron)
                    .Select(m => m["name"]!.GetValue<string>()).FirstOrDefault();
                Assert.NotNull(scheduled);
            }, "a Job started by the schedule", TimeSpan.FromSeconds(90));
            output.WriteLine($"scheduled run: {scheduled}");
            await Kubectl("wait", "--for=condition=complete", $"job/{scheduled}", "--timeout=60s");
            await Eventually(async () =>
                Assert.NotEmpty(await Kubectl("get", "cronjob", cron, "-o", "jsonpath={.status.lastSuccessfulTime}")), "lastSuccessfulTime");
            Assert.NotEmpty(await Kubectl("get", "cronjob", cron, "-o", "jsonpath={.status.lastScheduleTime}"));
        }
        finally
        {
            await cluster.Kubectl("delete", "cronjob", cron, "--ignore-not-found", "--wait=false");
            await cluster.Kubectl("delete", "job", manual, "--ignore-not-found", "--wait=false");
        }
    }

    [Fact, Step(3)]
    public async Task A_daemon_set_runs_one_pod_on_the_node_and_rolls_out_and_back()
    {
        await EnsureImage();
        var ds = Name("agent");
        try
        {
            await Apply($$"""
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: { name: {{ds}} }
                spec:
                  selector: { matchLabels: { app: {{ds}} } }
                  template:
                    metadata: { labels: { app: {{ds}} } }
                    spec:
                      terminationGracePeriodSeconds: 1
                      containers:
                      - name: agent
                        image: {{Image}}
                        command: ["sh", "-c", "sleep 3600"]
                """);
            await Kubectl("rollout", "status", $"daemonset/{ds}", "--timeout=90s");
            var pods = await PodsOf(ds);
            var pod = Assert.Single(pods);
            Assert.Equal(ClusterFixture.NodeName, pod["spec"]!["nodeName"]!.GetValue<string>());

            await Kubectl("set", "env", $"daemonset/{ds}", "VERSION=2");
            await Kubectl("rollout", "status", $"daemonset/{ds}", "--timeout=90s");
            var history = await Kubectl("rollout", "history", $"daemonset/{ds}");
            output.WriteLine(history);
            Assert.Matches(@"(?m)^1\s", history);
            Assert.Matches(@"(?m)^2\s", history);
            await Eventually(async () => Assert.Contains("VERSION", (await PodsOf(ds)).Single()["spec"]!.ToJsonString()), "the new pod");

            await Kubectl("rollout", "undo", $"daemonset/{ds}");
            await Kubectl("rollout", "status", $"daemonset/{ds}", "--timeout=90s");
            await Eventually(async () =>
            {
                var current = await PodsOf(ds);
                Assert.Single(current);
                Assert.DoesNotContain("VERSION", current[0]["spec"]!.ToJsonString());
            }, "the pod of revision 1 back");
            Assert.Matches(@"(?m)^3\s", await Kubectl("rollout", "history", $"daemonset/{ds}"));
        }
        finally
        {
            await cluster.Kubectl("delete", "daemonset", ds, "--ignore-not-found", "--wait=false");
        }
    }

    [Fact, Step(4)]
    public async Task A_stateful_set_of_two_creates_its_ordinal_pods_in_order_with_claims_and_dns_names()
    {
        await EnsureImage();
        var sts = Name("web");
        try
        {
            await Apply($$"""
                apiVersion: v1
                kind: Service
                metadata: { name: {{sts}} }
                spec:
                  clusterIP: None
                  selector: { app: {{sts}} }
                  ports: [{ port: 80 }]
                ---
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: { name: {{sts}} }
                spec:
                  replicas: 2
                  serviceName: {{sts}}
                  selector: { matchLabels: { app: {{sts}} } }
                  template:
                    metadata: { labels: { app: {{sts}} } }
                    spec:
                      terminationGracePeriodSeconds: 1
                      containers:
                      - name: web
                        image: {{Image}}
                        command: ["sh", "-c", "sleep 3600"]
                        volumeMounts: [{ name: data, mountPath: /data }]
                  volumeClaimTemplates:
                  - metadata: { name: data }
                    spec:
                      accessModes: [ReadWriteOnce]
                      resources: { requests: { storage: 64Mi } }
                """);
            await Kubectl("rollout", "status", $"statefulset/{sts}", "--timeout=120s");
            var pods = (await PodsOf(sts)).ToDictionary(p => p["metadata"]!["name"]!.GetValue<string>());
            Assert.Equal([$"{sts}-0", $"{sts}-1"], pods.Keys.Order());
            var first = pods[$"{sts}-0"];
            var second = pods[$"{sts}-1"];
            var firstReady = first["status"]!["conditions"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == "Ready")!["lastTransitionTime"]!.GetValue<DateTime>();
            var secondCreated = second["metadata"]!["creationTimestamp"]!.GetValue<DateTime>();
            // creationTimestamp has whole seconds, as in Kubernetes
            var readySecond = new DateTime(firstReady.Ticks - firstReady.Ticks % TimeSpan.TicksPerSecond, firstReady.Kind);
            Assert.True(secondCreated >= readySecond, $"{sts}-1 created at {secondCreated:O}, before {sts}-0 was ready at {firstReady:O}");
            Assert.Equal($"{sts}-1", second["spec"]!["hostname"]!.GetValue<string>());
            Assert.Equal($"{sts}-1", (await Kubectl("exec", $"{sts}-1", "--", "hostname")).Trim());
            Assert.Equal("2", await Kubectl("get", "statefulset", sts, "-o", "jsonpath={.status.readyReplicas}"));

            // One claim per pod, bound, labelled with the set's selector.
            Assert.Equal($"data-{sts}-0 data-{sts}-1",
                await Kubectl("get", "pvc", "-l", $"app={sts}", "-o", "jsonpath={.items[*].metadata.name}"));
            Assert.Equal("Bound Bound", await Kubectl("get", "pvc", "-l", $"app={sts}", "-o", "jsonpath={.items[*].status.phase}"));

            // Each pod's DNS name, and the headless Service's name listing both, resolve from the other pod.
            var secondIp = second["status"]!["podIP"]!.GetValue<string>();
            var firstIp = first["status"]!["podIP"]!.GetValue<string>();
            await Eventually(async () =>
                Assert.Contains(secondIp, await Kubectl("exec", $"{sts}-0", "--", "nslookup", $"{sts}-1.{sts}.default.svc.cluster.local")),
                $"{sts}-1.{sts} resolves from {sts}-0");
            var both = await Kubectl("exec", $"{sts}-1", "--", "nslookup", $"{sts}.default.svc.cluster.local");
            Assert.Contains(firstIp, both);
            Assert.Contains(secondIp, both);

            // Data in web-1's volume outlives the pod: the replacement mounts the same claim.
            await Kubectl("exec", $"{sts}-1", "--", "sh", "-c", $"echo kept-{Suffix} > /data/file");
            var uid = second["metadata"]!["uid"]!.GetValue<string>();
            await Kubectl("delete", "pod", $"{sts}-1", "--timeout=60s");
            await Eventually(async () =>
            {
                Assert.NotEqual(uid, await Kubectl("get", "pod", $"{sts}-1", "-o", "jsonpath={.metadata.uid}"));
                Assert.Equal("True", await Kubectl("get", "pod", $"{sts}-1", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"));
            }, $"{sts}-1 comes back", TimeSpan.FromSeconds(120));
            Assert.Equal($"kept-{Suffix}", (await Kubectl("exec", $"{sts}-1", "--", "cat", "/data/file")).Trim());
        }
        finally
        {
            await cluster.Kubectl("delete", "statefulset", sts, "--ignore-not-found", "--wait=false");
            await cluster.Kubectl("delete", "service", sts, "--ignore-not-found", "--wait=false");
            await cluster.Kubectl("delete", "pvc", "-l", $"app={sts}", "--ignore-not-found", "--wait=false");
        }
    }

    [Fact, Step(5)]
    public async Task A_disruption_budget_stops_a_drain_from_evicting_its_last_ready_pod()
    {
        await EnsureImage();
        var app = Name("guarded");
        try
        {
            await Kubectl("create", "deployment", app, $"--image={Image}", "--", "sh", "-c", "sleep 3600");
            await Kubectl("rollout", "status", $"deployment/{app}", "--timeout=90s");
            await Kubectl("create", "poddisruptionbudget", app, $"--selector=app={app}", "--min-available=1");
            await Eventually(async () =>
            {
                Assert.Equal("1", await Kubectl("get", "pdb", app, "-o", "jsonpath={.status.currentHealthy}"));
                Assert.Equal("0", await Kubectl("get", "pdb", app, "-o", "jsonpath={.status.disruptionsAllowed}"));
            }, "the budget's status");

            var drain = await cluster.Kubectl("drain", ClusterFixture.NodeName, $"--pod-selector=app={app}", "--timeout=12s");
            output.WriteLine(drain.ToString());
            Assert.NotEqual(0, drain.ExitCode);
            Assert.Contains("Cannot evict pod as it would violate the pod's disruption budget", drain.Output + drain.Error);
            Assert.Single(await PodsOf(app));
        }
        finally
        {
            await cluster.Kubectl("uncordon", ClusterFixture.NodeName);
            await cluster.Kubectl("delete", "pdb", app, "--ignore-not-found", "--wait=false");
            await cluster.Kubectl("delete", "deployment", app, "--ignore-not-found", "--wait=false");
        }
    }

    private async Task<List<JsonNode>> PodsOf(string app) =>
        JsonNode.Parse(await Kubectl("get", "pods", "-l", $"app={app}", "-o", "json"))!["items"]!.AsArray()
            .Select(p => p!).Where(p => p["metadata"]!["deletionTimestamp"] is null).ToList();

    private async Task Apply(string yaml)
    {
        var result = await cluster.KubectlWithInput(yaml, "apply", "-f", "-");
        Assert.True(result.ExitCode == 0, result + "\n" + yaml);
    }

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }

    private static async Task EnsureImage()
    {
        var script = $$"""
            set -e
            docker image inspect {{Image}} >/dev/null 2>&1 && exit 0
            bb=$(command -v busybox || true); [ -n "$bb" ] || { echo "busybox-static is required"; exit 1; }
            d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
            mkdir -p "$d/bin" "$d/tmp" "$d/etc"; cp "$bb" "$d/bin/busybox"
            for a in $("$bb" --list); do [ "$a" = busybox ] || ln -s busybox "$d/bin/$a"; done
            echo "root:x:0:0:root:/:/bin/sh" > "$d/etc/passwd"
            tar -C "$d" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' --change 'LABEL io.orchestrator.test=e2e' - {{Image}} >/dev/null
            """;
        var result = await Command.Run("bash", ["-c", script], new Dictionary<string, string>(), TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    private Task Eventually(Func<Task> check, string what, TimeSpan? within = null) =>
        cluster.Eventually(check, what, within ?? TimeSpan.FromSeconds(60));
}
