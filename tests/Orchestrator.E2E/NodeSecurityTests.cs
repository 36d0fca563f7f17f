using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// What a pod may do to its node, on a real cluster started by deploy/up.sh under a lock: a read-only root file
/// system, dropped capabilities and privileged containers as Docker runs them, hostNetwork with the node's address,
/// runAsUser/runAsNonRoot, hostPath types, and subPath traversal refused by the API and by the node. The image is a
/// busybox with all its applets; every pod has a unique name and is deleted at the end.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class NodeSecurityTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private const string Image = "orchestrator-test/e2e-security-busybox:latest";
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];
    private static string Name(string what) => $"{what}-{Suffix}";

    [Fact, Step(1)]
    public async Task Deploy_up_run_under_a_lock_leaves_the_lock_free_while_the_cluster_runs()
    {
        Assert.True(cluster.UpLockReleased, "flock FILE deploy/up.sh: the lock stayed held after up.sh returned");
        // and the cluster it started is the one answering
        Assert.Contains(ClusterFixture.NodeName, await Kubectl("get", "nodes", "-o", "name"));
        await EnsureImage();
    }

    [Fact, Step(2)]
    public async Task A_read_only_root_file_system_cannot_be_written_but_its_volumes_can()
    {
        var pod = Name("rofs");
        await Apply(PodYaml(pod, "touch /probe 2>&1; touch /data/ok && echo data-ok; sleep 600", extra: """
            securityContext: { readOnlyRootFilesystem: true }
            volumeMounts: [ { name: data, mountPath: /data } ]
            """, volumes: "volumes: [ { name: data, emptyDir: {} } ]"));

        await Eventually(async () =>
        {
            var logs = await Kubectl("logs", pod);
            Assert.Contains("touch: /probe: Read-only file system", logs);
            Assert.Contains("data-ok", logs);
        }, "the root file system refused the write, the emptyDir took it");
        await Delete(pod);
    }

    [Fact, Step(3)]
    public async Task A_dropped_capability_is_gone_and_a_privileged_container_has_every_one()
    {
        var dropped = Name("capdrop");
        var privileged = Name("privileged");
        await Apply(PodYaml(dropped, "touch /tmp/f; chown 1:1 /tmp/f 2>&1 || echo chown-refused; mkdir -p /mnt; mount -t tmpfs none /mnt 2>&1 || echo mount-refused; sleep 600",
            extra: "securityContext: { capabilities: { drop: [CHOWN] } }"));
        await Apply(PodYaml(privileged, "mkdir -p /mnt; mount -t tmpfs none /mnt && echo mounted; sleep 600",
            extra: "securityContext: { privileged: true }"));

        await Eventually(async () =>
        {
            var logs = await Kubectl("logs", dropped);
            Assert.Contains("chown-refused", logs);
            Assert.Contains("mount-refused", logs); // no CAP_SYS_ADMIN by default
        }, "CHOWN dropped");
        Assert.Equal("[\"CHOWN\"]", (await Inspect(dropped, "{{json .HostConfig.CapDrop}}")).Trim());
        await Eventually(async () => Assert.Equal("true", (await Inspect(privileged, "{{.HostConfig.Privileged}}")).Trim()), "a privileged Docker container");
        if (await PrivilegedContainersRunHere())
            await Eventually(async () => Assert.Contains("mounted", await Kubectl("logs", privileged)), "the privileged container mounted a file system");
        else
        {
            // a Docker engine that may not grant every capability (itself in a restricted container): its refusal is reported
            output.WriteLine("this machine's Docker engine cannot start privileged containers; checking that its refusal is reported");
            await Eventually(async () => Assert.Contains("unable to apply caps",
                await Kubectl("get", "pod", privileged, "-o", "jsonpath={.status.containerStatuses[0].lastState.terminated.message}")), "the runtime's refusal in the pod's status");
        }
        await Delete(dropped);
        await Delete(privileged);
    }

    [Fact, Step(4)]
    public async Task A_hostNetwork_pod_has_the_nodes_address_and_network()
    {
        var pod = Name("hostnet");
        await Apply(PodYaml(pod, "cat /proc/net/dev; sleep 600", spec: "hostNetwork: true"));

        await Eventually(async () => Assert.Equal("Running", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.phase}")), $"{pod} Running");
        var (podIp, hostIp) = (await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.podIP}"), await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.hostIP}"));
        Assert.Equal(hostIp, podIp);
        Assert.Equal("127.0.0.1", podIp); // the E2E node's --address
        await Eventually(async () => Assert.Contains("orch0:", await Kubectl("logs", pod)), "the node's interfaces (its pod bridge) seen from the pod");
        await Delete(pod);
    }

    [Fact, Step(5)]
    public async Task SubPath_traversal_is_refused_by_the_api_and_a_symlink_escape_by_the_node()
    {
        var refused = await cluster.KubectlWithInput(PodYaml(Name("dotdot"), "sleep 600", extra: """
            volumeMounts: [ { name: data, mountPath: /data, subPath: ../../../etc } ]
            """, volumes: "volumes: [ { name: data, emptyDir: {} } ]"), "apply", "-f", "-");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("spec.containers[0].volumeMounts.subPath: Invalid value: \"../../../etc\": must not contain '..'", refused.Error);

        // the attack the API cannot see: an init container plants a link to / in the volume the next container's subPath names
        var pod = Name("escape");
        await Apply($$"""
            apiVersion: v1
            kind: Pod
            metadata: { name: {{pod}}, labels: { test: node-security } }
            spec:
              terminationGracePeriodSeconds: 1
              volumes: [ { name: data, emptyDir: {} } ]
              initContainers:
                - name: plant
                  image: {{Image}}
                  imagePullPolicy: Never
                  command: [sh, -c, "ln -s / /data/escape"]
                  volumeMounts: [ { name: data, mountPath: /data } ]
              containers:
                - name: main
                  image: {{Image}}
                  imagePullPolicy: Never
                  command: [sh, -c, "ls /host/etc; sleep 600"]
                  volumeMounts: [ { name: data, mountPath: /host, subPath: escape } ]
            """);
        await Eventually(async () =>
        {
            Assert.Equal("CreateContainerConfigError", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"));
            Assert.Equal("failed to prepare subPath for volumeMount \"data\" of container \"main\"",
                await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}"));
        }, "the container refused with CreateContainerConfigError");
        Assert.Contains("Error: failed to prepare subPath", await Kubectl("get", "events", "--field-selector", $"involvedObject.name={pod}"));
        Assert.Empty(await MainContainers(pod)); // nothing was created with the host's root mounted
        await Delete(pod);
    }

    [Fact, Step(6)]
    public async Task RunAsNonRoot_refuses_a_root_image_and_runAsUser_runs_as_that_user_with_its_groups()
    {
        var nonRoot = Name("nonroot");
        var user = Name("runas");
        await Apply(PodYaml(nonRoot, "sleep 600", spec: "securityContext: { runAsNonRoot: true }"));
        await Apply(PodYaml(user, "id; touch /data/written && echo wrote; sleep 600",
            spec: "securityContext: { runAsUser: 1000, fsGroup: 2000, supplementalGroups: [3000] }",
            extra: "volumeMounts: [ { name: data, mountPath: /data } ]", volumes: "volumes: [ { name: data, emptyDir: {} } ]"));

        await Eventually(async () =>
        {
            Assert.Equal("CreateContainerConfigError", await Kubectl("get", "pod", nonRoot, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"));
            Assert.StartsWith("container has runAsNonRoot and image will run as root (pod: \"" + nonRoot + "_default(",
                await Kubectl("get", "pod", nonRoot, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}"));
        }, "runAsNonRoot refused the root image");
        await Eventually(async () =>
        {
            var logs = await Kubectl("logs", user);
            Assert.Contains("uid=1000", logs);
            Assert.Contains("2000", logs.Split('\n').First(l => l.StartsWith("uid=", StringComparison.Ordinal)));
            Assert.Contains("3000", logs);
            Assert.Contains("wrote", logs); // an emptyDir is writable by any user of the pod
        }, "the container ran as uid 1000 with groups 2000 and 3000");
        await Delete(nonRoot);
        await Delete(user);
    }

    [Fact, Step(7)]
    public async Task A_hostPath_of_the_wrong_type_keeps_the_pod_pending_with_FailedMount_and_OrCreate_creates_it()
    {
        var missing = Path.Combine(cluster.StateDir, "hostpath-" + Suffix);
        var pod = Name("hostpath");
        string Yaml(string type) => PodYaml(pod, "ls -ld /h && echo mounted; sleep 600", extra: "volumeMounts: [ { name: h, mountPath: /h, readOnly: true } ]",
            volumes: $"volumes: [ {{ name: h, hostPath: {{ path: {missing}, type: {type} }} }} ]");
        await Apply(Yaml("Directory"));

        await Eventually(async () =>
            Assert.Contains($"MountVolume.SetUp failed for volume \"h\" : hostPath {missing} doesn't exist",
                await Kubectl("get", "events", "--field-selector", $"involvedObject.name={pod}")),
            "a FailedMount event");
        Assert.Equal("Pending", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.phase}"));
        Assert.False(Directory.Exists(missing));
        await Delete(pod);
        await Eventually(async () => Assert.DoesNotContain(pod, await Kubectl("get", "pods", "-o", "name")), $"{pod} gone");

        await Apply(Yaml("DirectoryOrCreate"));
        await Eventually(async () => Assert.Contains("mounted", await Kubectl("logs", pod)), "the created directory mounted");
        Assert.True(Directory.Exists(missing));
        await Delete(pod);
        Directory.Delete(missing);
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static string PodYaml(string name, string script, string extra = "", string spec = "", string volumes = "") => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
          labels: { test: node-security }
        spec:
          terminationGracePeriodSeconds: 1
        {{Indent(spec, "  ")}}
        {{Indent(volumes, "  ")}}
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

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }

    /// <summary>docker inspect of the newest Docker container of the pod's container "main".</summary>
    private static async Task<string> Inspect(string pod, string format)
    {
        var ids = await MainContainers(pod);
        if (ids.Length == 0) return "";
        var result = await Command.Run("docker", ["inspect", "-f", format, ids[0]], new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        return result.Output;
    }

    /// <summary>Whether this machine's Docker engine can start a privileged container at all (one in a restricted
    /// container cannot grant every capability).</summary>
    private static async Task<bool> PrivilegedContainersRunHere() =>
        (await Command.Run("docker", ["run", "--rm", "--privileged", "--network", "none", Image, "true"], new Dictionary<string, string>(),
            TimeSpan.FromMinutes(1))).ExitCode == 0;

    /// <summary>The Docker containers of the pod's container "main" (any state).</summary>
    private static async Task<string[]> MainContainers(string pod)
    {
        var result = await Command.Run("docker",
            ["ps", "-aq", "--filter", $"label=io.orchestrator.pod.name={pod}", "--filter", "label=io.orchestrator.container.name=main"],
            new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>A busybox image with every applet (id, chown, mount, ln …), made from the machine's busybox-static.</summary>
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
        output.WriteLine($"image {Image} ready");
    }

    private Task Eventually(Func<Task> check, string what, TimeSpan? within = null) =>
        cluster.Eventually(check, what, within ?? TimeSpan.FromSeconds(60));
}
