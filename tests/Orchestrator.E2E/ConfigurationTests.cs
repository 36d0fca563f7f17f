using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// ConfigMaps and Secrets in pods on a real cluster started by deploy/up.sh under a lock, driven by kubectl: a
/// Deployment reading three ConfigMap keys by env and a Secret as a volume (on a tmpfs, Kubernetes' ..data layout),
/// an edited ConfigMap reaching its mounted volume within 60 s, CreateContainerConfigError for a missing key until the
/// key appears, a downward API volume with the pod's labels, and immutable ConfigMaps refused an edit. The image is a
/// busybox made from the machine's busybox-static; every object has a unique name and is deleted at the end.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class ConfigurationTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private const string Image = "orchestrator-test/e2e-config-busybox:latest";
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];
    private static string Name(string what) => $"{what}-{Suffix}";

    [Fact, Step(1)]
    public async Task A_deployment_reads_three_config_map_keys_by_env_and_a_secret_as_a_volume()
    {
        await EnsureImage();
        var (cm, secret, deploy) = (Name("settings"), Name("db"), Name("reader"));
        await Kubectl("create", "configmap", cm, "--from-literal=mode=fast", "--from-literal=level=3", "--from-literal=region=eu-west");
        await Kubectl("create", "secret", "generic", secret, "--from-literal=password=hunter2-" + Suffix);
        await Apply($$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: {{deploy}} }
            spec:
              replicas: 1
              selector: { matchLabels: { app: {{deploy}} } }
              template:
                metadata: { labels: { app: {{deploy}} } }
                spec:
                  terminationGracePeriodSeconds: 1
                  volumes:
                    - { name: creds, secret: { secretName: {{secret}} } }
                    - { name: conf, configMap: { name: {{cm}} } }
                  containers:
                    - name: main
                      image: {{Image}}
                      imagePullPolicy: Never
                      command: [sh, -c, "sleep 3600"]
                      env:
                        - { name: MODE, valueFrom: { configMapKeyRef: { name: {{cm}}, key: mode } } }
                        - { name: LEVEL, valueFrom: { configMapKeyRef: { name: {{cm}}, key: level } } }
                        - { name: REGION, valueFrom: { configMapKeyRef: { name: {{cm}}, key: region } } }
                        - { name: SUMMARY, value: "$(MODE)/$(LEVEL)/$(REGION)" }
                      volumeMounts:
                        - { name: creds, mountPath: /etc/creds }
                        - { name: conf, mountPath: /etc/conf }
                        - { name: conf, mountPath: /etc/mode-only, subPath: mode }
            """);
        var pod = await RunningPod(deploy);

        Assert.Equal("fast 3 eu-west fast/3/eu-west", (await Exec(pod, "echo $MODE $LEVEL $REGION $SUMMARY")).Trim());
        Assert.Equal("hunter2-" + Suffix, await Exec(pod, "cat /etc/creds/password"));
        // Kubernetes' atomic writer layout, read-only, the Secret on a tmpfs
        var listing = await Exec(pod, "ls -a /etc/creds");
        Assert.Contains("..data", listing);
        Assert.Matches(@"\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+", listing);
        Assert.Equal("..data/password", (await Exec(pod, "readlink /etc/creds/password")).Trim());
        Assert.Matches(@"/etc/creds tmpfs ro", await Exec(pod, "grep ' /etc/creds ' /proc/mounts"));
        Assert.Contains("Read-only file system", await Exec(pod, "touch /etc/conf/x 2>&1 || true"));
        // the Secret's value is in no event
        Assert.DoesNotContain("hunter2-" + Suffix, await Kubectl("get", "events", "-o", "yaml"));
    }

    [Fact, Step(2)]
    public async Task An_edited_config_map_appears_in_the_mounted_volume_within_a_minute_but_not_in_env_or_a_sub_path()
    {
        var (cm, deploy) = (Name("settings"), Name("reader"));
        var pod = await RunningPod(deploy);
        var before = (await Exec(pod, "readlink /etc/conf/..data")).Trim();

        await Kubectl("patch", "configmap", cm, "--type=merge", "-p", "{\"data\":{\"mode\":\"slow\"}}");

        var started = DateTime.UtcNow;
        await Eventually(async () => Assert.Equal("slow", await Exec(pod, "cat /etc/conf/mode")), "the volume shows the edit", TimeSpan.FromSeconds(60));
        output.WriteLine($"the edit reached the volume in {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
        Assert.NotEqual(before, (await Exec(pod, "readlink /etc/conf/..data")).Trim());
        Assert.Equal("fast", (await Exec(pod, "echo $MODE")).Trim());
        Assert.Equal("fast", await Exec(pod, "cat /etc/mode-only"));
    }

    [Fact, Step(3)]
    public async Task A_missing_key_is_CreateContainerConfigError_until_the_key_is_added()
    {
        var (cm, pod) = (Name("settings"), Name("missing-key"));
        await Apply(PodYaml(pod, "echo got=$NOPE; sleep 3600", """
            env:
              - { name: NOPE, valueFrom: { configMapKeyRef: { name: CM, key: nope } } }
            """.Replace("CM", cm)));

        await Eventually(async () =>
        {
            Assert.Equal("CreateContainerConfigError", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"));
            Assert.Equal($"couldn't find key nope in ConfigMap default/{cm}",
                await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}"));
        }, "the container waits in CreateContainerConfigError");
        Assert.Contains($"Error: couldn't find key nope in ConfigMap default/{cm}", await Kubectl("get", "events", "--field-selector", $"involvedObject.name={pod}"));

        await Kubectl("patch", "configmap", cm, "--type=merge", "-p", "{\"data\":{\"nope\":\"now-here\"}}");
        await Eventually(async () => Assert.Contains("got=now-here", await Kubectl("logs", pod)), "the container started once the key exists");
        await Kubectl("delete", "pod", pod, "--grace-period=0", "--force", "--wait=false");
    }

    [Fact, Step(4)]
    public async Task A_downward_api_volume_holds_the_pods_labels_and_follows_a_change()
    {
        var pod = Name("podinfo");
        await Apply(PodYaml(pod, "sleep 3600", """
            volumeMounts: [ { name: podinfo, mountPath: /etc/podinfo } ]
            """, volumes: """
            volumes:
              - name: podinfo
                downwardAPI:
                  items:
                    - { path: labels, fieldRef: { fieldPath: metadata.labels } }
                    - { path: name, fieldRef: { fieldPath: metadata.name } }
            """));
        await Eventually(async () => Assert.Equal("Running", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.phase}")), $"{pod} Running");

        Assert.Equal("test=\"configuration\"", await Exec(pod, "cat /etc/podinfo/labels", container: pod));
        Assert.Equal(pod, await Exec(pod, "cat /etc/podinfo/name", container: pod));

        await Kubectl("label", "pod", pod, "tier=front");
        await Eventually(async () => Assert.Equal("test=\"configuration\"\ntier=\"front\"", await Exec(pod, "cat /etc/podinfo/labels", container: pod)),
            "the new label reached the volume", TimeSpan.FromSeconds(60));
        await Kubectl("delete", "pod", pod, "--grace-period=0", "--force", "--wait=false");
    }

    [Fact, Step(5)]
    public async Task An_immutable_config_map_refuses_an_edit()
    {
        var cm = Name("frozen");
        await Apply($$"""
            apiVersion: v1
            kind: ConfigMap
            metadata: { name: {{cm}} }
            immutable: true
            data: { a: "1" }
            """);

        var refused = await cluster.Kubectl("patch", "configmap", cm, "--type=merge", "-p", "{\"data\":{\"a\":\"2\"}}");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"ConfigMap \"{cm}\" is invalid: data: Forbidden: field is immutable when `immutable` is set", refused.Error);
        await Kubectl("delete", "configmap", cm);
    }

    [Fact, Step(6)]
    public async Task Clean_up()
    {
        await Kubectl("delete", "deployment", Name("reader"), "--wait=false");
        await Kubectl("delete", "configmap", Name("settings"));
        await Kubectl("delete", "secret", Name("db"));
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static string PodYaml(string name, string script, string extra, string volumes = "") => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
          labels: { test: configuration }
        spec:
          terminationGracePeriodSeconds: 1
        {{Indent(volumes, "  ")}}
          containers:
            - name: {{name}}
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

    private async Task<string> RunningPod(string deployment)
    {
        var name = "";
        await Eventually(async () =>
        {
            name = (await Kubectl("get", "pods", "-l", $"app={deployment}", "--field-selector=status.phase=Running", "-o", "jsonpath={.items[0].metadata.name}")).Trim();
            Assert.NotEqual("", name);
        }, $"a running pod of {deployment}");
        return name;
    }

    private async Task<string> Exec(string pod, string script, string container = "main") =>
        await Kubectl("exec", pod, "-c", container, "--", "sh", "-c", script);

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }

    /// <summary>A busybox image with every applet, made from the machine's busybox-static.</summary>
    private async Task EnsureImage()
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
