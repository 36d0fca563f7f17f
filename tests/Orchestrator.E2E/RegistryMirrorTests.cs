using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// The node's <c>--registry-mirror</c> (ORCHESTRATOR_NODE_REGISTRY_MIRROR), as Docker's registry-mirrors and
/// containerd's docker.io mirror: a Docker Hub image is pulled from the mirror, under the path it has on Docker Hub
/// (<c>library/NAME</c> for an official image), and runs under its own name; images of other registries never go to the
/// mirror. A Docker Hub image nobody has locally is pushed only to a loopback registry (deploy/lib/registry.sh) under
/// its Docker Hub path: with the node as deploy/up.sh starts it the pod ends in ErrImagePull/ImagePullBackOff (Docker
/// Hub is out of reach, or has no such repository); the node restarted with the mirror pulls it from there and the same
/// pod runs. The image, the registry and the pods are removed at the end (the cluster is this class's own).
/// </summary>
public sealed class RegistryMirrorTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>, IAsyncLifetime
{
    private const string Mirror = "127.0.0.1:45173";
    private const string Unreachable = "127.0.0.1:45174"; // nothing listens there
    private readonly string Suffix = Guid.NewGuid().ToString("N")[..6];
    private string Namespace => $"mirror-{Suffix}";
    // an official-image name, docker.io/library/e2e-mirror-…: only the mirror has it
    private string HubImage => $"e2e-mirror-{Suffix}:v1";
    private string MirrorCopy => $"{Mirror}/library/e2e-mirror-{Suffix}:v1";
    private static readonly Dictionary<string, string> NoEnvironment = new();

    public async Task InitializeAsync()
    {
        await Registry("start");
        await Kubectl("create", "namespace", Namespace);
    }

    public async Task DisposeAsync()
    {
        await cluster.Kubectl("delete", "namespace", Namespace, "--wait=false");
        await Registry("stop");
        var images = await Command.Run("bash", ["-c", $"docker images --format '{{{{.ID}}}} {{{{.Repository}}}}' | grep -- 'e2e-mirror-{Suffix}$' | cut -d' ' -f1 | sort -u | xargs -r docker rmi -f"],
            NoEnvironment, TimeSpan.FromMinutes(1));
        output.WriteLine(images.ToString());
    }

    [Fact]
    public async Task A_Docker_Hub_image_only_the_mirror_has_fails_without_the_mirror_and_runs_once_the_node_has_it()
    {
        var digest = await BuildAndPushToMirror("from-the-mirror");

        // the node as deploy/up.sh starts it, without a mirror: Docker Hub is tried, and has no such image
        await Apply(PodYaml("hub", HubImage));
        await cluster.Eventually(async () =>
            Assert.Contains(await Reason("hub"), new[] { "ErrImagePull", "ImagePullBackOff" }), "the pull fails without the mirror");
        Assert.Contains($"Failed to pull image \"{HubImage}\"", await Events("hub"));
        Assert.Equal("Pending", await Kubectl("get", "pod", "-n", Namespace, "hub", "-o", "jsonpath={.status.phase}"));

        await RestartNode(("ORCHESTRATOR_NODE_REGISTRY_MIRROR", $"http://{Mirror}/")); // a URL, as in daemon.json: its host is used

        // the same pod, backing off, is pulled through the mirror on its next try and runs under its own name
        await cluster.Eventually(async () =>
            Assert.Equal("Running", await Kubectl("get", "pod", "-n", Namespace, "hub", "-o", "jsonpath={.status.phase}")),
            "the pod runs once the node pulls through the mirror", TimeSpan.FromMinutes(3));
        Assert.Equal("from-the-mirror", (await Kubectl("logs", "-n", Namespace, "hub")).Trim());
        Assert.Matches($@"Successfully pulled image ""{HubImage}"" in [0-9.]+m?s", await Events("hub"));
        Assert.Equal(HubImage, await Kubectl("get", "pod", "-n", Namespace, "hub", "-o", "jsonpath={.status.containerStatuses[0].image}"));
        // the mirror's manifest: the digest pushed there, not one of a local build
        var imageId = await Kubectl("get", "pod", "-n", Namespace, "hub", "-o", "jsonpath={.status.containerStatuses[0].imageID}");
        Assert.StartsWith("docker-pullable://", imageId);
        Assert.EndsWith($"@{digest}", imageId);
        // the node's store has the image under its own name, as a pull from Docker Hub leaves it
        var local = await Command.Run("docker", ["image", "inspect", "-f", "{{.Id}}", HubImage], NoEnvironment, TimeSpan.FromMinutes(1));
        Assert.True(local.ExitCode == 0, local.ToString());

        // a pod naming another registry is never sent to the mirror, though the mirror has that path too
        await Apply(PodYaml("other-registry", $"{Unreachable}/library/e2e-mirror-{Suffix}:v1"));
        await cluster.Eventually(async () => Assert.Contains("connection refused", await Events("other-registry")),
            "the other registry's own failure");
        Assert.Contains(await Reason("other-registry"), new[] { "ErrImagePull", "ImagePullBackOff" });
    }

    /// <summary>A busybox image whose /message holds <paramref name="message"/>, pushed to the mirror as Docker Hub's
    /// library/e2e-mirror-…:v1 and then removed from the local store under every name; returns its digest.</summary>
    private async Task<string> BuildAndPushToMirror(string message)
    {
        var script = $$"""
            set -e
            bb=$(command -v busybox || true); [ -n "$bb" ] || { echo "busybox-static is required"; exit 1; }
            d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
            mkdir -p "$d/bin"; cp "$bb" "$d/bin/busybox"
            for a in sh cat sleep; do ln -s busybox "$d/bin/$a"; done
            echo {{message}} > "$d/message"
            tar -C "$d" -c . | docker import --change 'ENV PATH=/bin' --change 'LABEL io.orchestrator.test=e2e' - {{MirrorCopy}} >/dev/null
            docker push {{MirrorCopy}}
            docker rmi -f {{MirrorCopy}} >/dev/null
            ! docker image inspect {{HubImage}} >/dev/null 2>&1
            """;
        var result = await Command.Run("bash", ["-c", script], NoEnvironment, TimeSpan.FromMinutes(2));
        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        var match = System.Text.RegularExpressions.Regex.Match(result.Output, @"digest: (sha256:[0-9a-f]{64})");
        Assert.True(match.Success, result.Output);
        return match.Groups[1].Value;
    }

    /// <summary>Stops the node process and starts it again with deploy/up.sh and <paramref name="settings"/> in its
    /// environment (up.sh starts what is missing: the node, or with up.sh's default, one process, the master with it).</summary>
    private async Task RestartNode(params (string Name, string Value)[] settings)
    {
        var pid = int.Parse((await File.ReadAllTextAsync(Path.Combine(cluster.StateDir, "node.pid"))).Trim());
        Process.GetProcessById(pid).Kill();
        await cluster.Eventually(() => { Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid)); return Task.CompletedTask; }, "the node agent is gone");
        var environment = cluster.Environment.ToDictionary();
        foreach (var (name, value) in settings) environment[name] = value;
        var up = await Command.Run("bash", [Path.Combine(cluster.RepoRoot, "deploy", "up.sh")], environment, TimeSpan.FromMinutes(10));
        Assert.True(up.ExitCode == 0, up.ToString());
    }

    private string PodYaml(string name, string image) => $$"""
        apiVersion: v1
        kind: Pod
        metadata: { name: {{name}}, namespace: {{Namespace}} }
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: main
            image: "{{image}}"
            imagePullPolicy: IfNotPresent
            command: [sh, -c, "cat /message; sleep 3600"]
        """;

    private async Task Registry(string command)
    {
        var result = await Command.Run("bash", [Path.Combine(cluster.RepoRoot, "deploy", "lib", "registry.sh"), command, Mirror],
            cluster.Environment, TimeSpan.FromMinutes(2));
        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    private async Task Apply(string yaml)
    {
        var result = await cluster.KubectlWithInput(yaml, "apply", "-f", "-");
        Assert.True(result.ExitCode == 0, result + "\n" + yaml);
    }

    private Task<string> Reason(string pod) =>
        Kubectl("get", "pod", "-n", Namespace, pod, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}");

    private Task<string> Events(string pod) =>
        Kubectl("get", "events", "-n", Namespace, "--field-selector", $"involvedObject.name={pod}", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}");

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }
}
