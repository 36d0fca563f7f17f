using System.Net.Sockets;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// Persistent storage on a real cluster: the default local-path class binds a claim on its first pod, data outlives the
/// pod, reclaim Delete removes the volume's directory and Retain keeps it, and a Redis with a claim keeps its keys
/// across <c>kubectl delete pod</c>. The node runs on this machine, so the volumes' directories are checked here.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class PersistentStorageTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];
    private static string Name(string what) => $"{what}-{Suffix}";

    [Fact, Step(1)]
    public async Task A_claim_of_the_default_class_binds_on_first_use_and_its_data_outlives_the_pod_until_the_claim_goes()
    {
        await EnsureImage();
        Assert.Contains("(default)", await Kubectl("get", "storageclass", "local-path"));
        var claim = Name("data");
        await Apply(ClaimYaml(claim));
        await Eventually(async () => Assert.Contains("WaitForFirstConsumer", await Kubectl("get", "events", "--field-selector", $"involvedObject.name={claim}")),
            "the claim waits for its first consumer");
        Assert.Equal("Pending", await Kubectl("get", "pvc", claim, "-o", "jsonpath={.status.phase}"));

        var writer = Name("writer");
        await Apply(PodYaml(writer, claim, "echo kept-$(hostname) > /data/file; sleep 600"));
        await WaitRunning(writer);
        var volume = await Kubectl("get", "pvc", claim, "-o", "jsonpath={.spec.volumeName}");
        Assert.Matches($@"{claim}\s+Bound\s+{volume}\s+64Mi\s+RWO\s+local-path", await Kubectl("get", "pvc", claim, "--no-headers"));
        Assert.Matches($@"{volume}\s+64Mi\s+RWO\s+Delete\s+Bound\s+default/{claim}\s+local-path", await Kubectl("get", "pv", volume, "--no-headers"));
        var path = await Kubectl("get", "pv", volume, "-o", "jsonpath={.spec.hostPath.path}");
        Assert.StartsWith(Path.Combine(cluster.StateDir, "node", "volumes") + "/", path);
        await Eventually(() => Task.Run(() => Assert.Equal($"kept-{writer}\n", File.ReadAllText(Path.Combine(path, "file")))), "the file on the node");

        await DeletePod(writer);
        var reader = Name("reader");
        await Apply(PodYaml(reader, claim, "cat /data/file; sleep 600"));
        await WaitRunning(reader);
        await Eventually(async () => Assert.Contains($"kept-{writer}", await Kubectl("logs", reader)), "the new pod reads the data");

        // in use: the claim waits for its pod (kubernetes.io/pvc-protection)
        await Kubectl("delete", "pvc", claim, "--wait=false");
        Assert.Contains("Terminating", await Kubectl("get", "pvc", claim, "--no-headers"));
        await DeletePod(reader);
        await Eventually(async () => Assert.Contains("NotFound", (await cluster.Kubectl("get", "pv", volume)).Error), "the volume is deleted (reclaim Delete)",
            TimeSpan.FromSeconds(60));
        Assert.False(Directory.Exists(path), $"{path} is still there");
    }

    [Fact, Step(2)]
    public async Task A_claim_of_a_Retain_class_leaves_its_volume_Released_with_the_data()
    {
        await EnsureImage();
        var storageClass = Name("keep");
        await Apply($"""
            apiVersion: storage.k8s.io/v1
            kind: StorageClass
            metadata: {"{"} name: {storageClass} {"}"}
            provisioner: rancher.io/local-path
            reclaimPolicy: Retain
            volumeBindingMode: WaitForFirstConsumer
            """);
        var claim = Name("kept");
        await Apply(ClaimYaml(claim, storageClass));
        var writer = Name("keeper");
        await Apply(PodYaml(writer, claim, "echo retained > /data/file; sleep 600"));
        await WaitRunning(writer);
        var volume = await Kubectl("get", "pvc", claim, "-o", "jsonpath={.spec.volumeName}");
        var path = await Kubectl("get", "pv", volume, "-o", "jsonpath={.spec.hostPath.path}");
        await Eventually(() => Task.Run(() => Assert.True(File.Exists(Path.Combine(path, "file")))), "the file on the node");

        await DeletePod(writer);
        await Kubectl("delete", "pvc", claim, "--timeout=60s");
        await Eventually(async () => Assert.Equal("Released", await Kubectl("get", "pv", volume, "-o", "jsonpath={.status.phase}")), "Released");
        Assert.Equal("retained\n", await File.ReadAllTextAsync(Path.Combine(path, "file")));

        // deleting a retained volume by hand removes its directory too (the provisioner's finalizer)
        await Kubectl("delete", "pv", volume, "--timeout=60s");
        Assert.False(Directory.Exists(path), $"{path} is still there");
        await Kubectl("delete", "storageclass", storageClass);
    }

    [Fact, Step(3)]
    public async Task A_redis_with_a_claim_keeps_its_keys_across_kubectl_delete_pod()
    {
        var app = Name("redis");
        var claim = Name("redis-data");
        await Apply(ClaimYaml(claim));
        await Apply($$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: {{app}} }
            spec:
              replicas: 1
              selector: { matchLabels: { app: {{app}} } }
              template:
                metadata: { labels: { app: {{app}} } }
                spec:
                  containers:
                    - name: redis
                      image: orchestrator/redis:latest
                      imagePullPolicy: Never
                      args: [--dir, /data, --appendonly, "yes"]
                      volumeMounts: [{ name: data, mountPath: /data }]
                  volumes:
                    - name: data
                      persistentVolumeClaim: { claimName: {{claim}} }
            """);
        var first = await RunningPod(app, null);
        await Eventually(async () => Assert.Equal("+OK", await Redis(first.Ip, "SET greeting kept-across-pods")), "SET");

        await Kubectl("delete", "pod", first.Name);
        var second = await RunningPod(app, first.Name);
        await Eventually(async () => Assert.Equal("$16\r\nkept-across-pods", await Redis(second.Ip, "GET greeting")), "GET from the new pod");

        await Kubectl("delete", "deployment", app);
        await Kubectl("delete", "pvc", claim, "--timeout=90s");
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static string ClaimYaml(string name, string? storageClass = null) => $$"""
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: { name: {{name}} }
        spec:
          {{(storageClass is null ? "" : "storageClassName: " + storageClass)}}
          accessModes: [ReadWriteOnce]
          resources: { requests: { storage: 64Mi } }
        """;

    private static string PodYaml(string name, string claim, string script) => $$"""
        apiVersion: v1
        kind: Pod
        metadata: { name: {{name}} }
        spec:
          terminationGracePeriodSeconds: 1
          containers:
            - name: main
              image: {{PodLifecycleTests.Image}}
              imagePullPolicy: Never
              command: [sh, -c, "{{script}}"]
              volumeMounts: [{ name: data, mountPath: /data }]
          volumes:
            - name: data
              persistentVolumeClaim: { claimName: {{claim}} }
        """;

    /// <summary>One inline command to Redis at the pod's address (the pod network is reachable from this machine).</summary>
    private static async Task<string> Redis(string ip, string command)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.ConnectAsync(ip, 6379, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), timeout.Token);
            var buffer = new byte[256];
            var reply = new StringBuilder();
            while (!reply.ToString().EndsWith("\r\n", StringComparison.Ordinal) || reply.ToString().StartsWith('$') && reply.ToString().Count(c => c == '\n') < 2)
            {
                var n = await stream.ReadAsync(buffer, timeout.Token);
                if (n == 0) break;
                reply.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
            return reply.ToString().TrimEnd();
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            return $"(failed: {e.Message})";
        }
    }

    private async Task<(string Name, string Ip)> RunningPod(string app, string? notThis)
    {
        (string, string) found = default;
        await Eventually(async () =>
        {
            var rows = (await Kubectl("get", "pods", "-l", $"app={app}", "-o",
                    "jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.podIP} {.metadata.deletionTimestamp}{\"\\n\"}{end}"))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(r => r.Split(' ')).ToList();
            var row = rows.FirstOrDefault(r => r[0] != notThis && r[1] == "Running" && r[2].Length > 0 && (r.Length < 4 || r[3].Length == 0));
            Assert.True(row is not null, string.Join("; ", rows.Select(r => string.Join(" ", r))));
            found = (row![0], row[2]);
        }, $"a Running pod of {app}", TimeSpan.FromSeconds(90));
        return found;
    }

    private async Task Apply(string yaml)
    {
        var result = await cluster.KubectlWithInput(yaml, "apply", "-f", "-");
        Assert.True(result.ExitCode == 0, result + "\n" + yaml);
    }

    private async Task DeletePod(string pod) => await Kubectl("delete", "pod", pod, "--timeout=60s");

    private async Task WaitRunning(string pod)
    {
        await EnsureImage();
        await Eventually(async () => Assert.Equal("Running", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.phase}")),
            $"{pod} Running", TimeSpan.FromSeconds(90));
    }

    private Task Eventually(Func<Task> assertion, string what, TimeSpan? within = null) => cluster.Eventually(assertion, what, within);

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        output.WriteLine($"kubectl {string.Join(" ", args)}\n{result.Output}");
        return result.Output.Trim();
    }

    private static async Task EnsureImage()
    {
        var script = $"""
            set -e
            docker image inspect {PodLifecycleTests.Image} >/dev/null 2>&1 && exit 0
            bb=$(command -v busybox || true); [ -n "$bb" ] || {"{"} echo "busybox-static is required"; exit 1; {"}"}
            d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
            mkdir -p "$d/bin" "$d/www" "$d/tmp"; cp "$bb" "$d/bin/busybox"
            for a in sh hostname sleep echo cat httpd ls true false head mkdir touch rm date env; do ln -s busybox "$d/bin/$a"; done
            tar -C "$d" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' --change 'LABEL io.orchestrator.test=e2e' - {PodLifecycleTests.Image} >/dev/null
            """;
        var result = await Command.Run("bash", ["-c", script], new Dictionary<string, string>(), TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
