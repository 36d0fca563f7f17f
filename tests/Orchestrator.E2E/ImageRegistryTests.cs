using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// Pulling from a real registry: two of Debian's docker-registry (deploy/lib/registry.sh) on unusual loopback ports —
/// an open one and one with htpasswd auth — in the E2E cluster's state directory. Images are built from the machine's
/// busybox-static, pushed with <c>orchctl image push</c>, removed from the local store, and pulled by the node by tag and
/// by digest; a tag moved to a new image is pulled again with Always and not with IfNotPresent; a private repository
/// backs off without its pull secret and runs with it (from the pod, and from its ServiceAccount); a stopped registry
/// fails clearly and the pod starts once it is back. Every pod, image and registry is removed at the end. The cluster is
/// SharedClusterCollection's: each test's namespace, repositories and images have a suffix of their own.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class ImageRegistryTests(ClusterFixture cluster, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Open = "127.0.0.1:45171";
    private const string Private = "127.0.0.1:45172";
    private const string User = "e2e";
    private const string Password = "pull-s3cret";
    // each test has its own instance: its own namespace and repositories
    private readonly string Suffix = Guid.NewGuid().ToString("N")[..6];
    private string Namespace => $"img-{Suffix}";
    private string Repo(string what) => $"e2e-{what}-{Suffix}";
    private static readonly Dictionary<string, string> NoEnvironment = new();

    public async Task InitializeAsync()
    {
        await Registry("start", Open);
        await Kubectl("create", "namespace", Namespace);
    }

    public async Task DisposeAsync()
    {
        await cluster.Kubectl("delete", "namespace", Namespace, "--wait=false");
        await Registry("stop", Open);
        await Registry("stop", Private);
        // by id: an image whose tag moved on is left with its repository name and no tag
        var images = await Command.Run("bash", ["-c", $"docker images --format '{{{{.ID}}}} {{{{.Repository}}}}' | grep -- '-{Suffix}$' | cut -d' ' -f1 | sort -u | xargs -r docker rmi -f"],
            NoEnvironment, TimeSpan.FromMinutes(1));
        output.WriteLine(images.ToString());
    }

    [Fact]
    public async Task An_image_pushed_to_the_cluster_registry_runs_by_tag_and_by_digest_and_a_moved_tag_is_pulled_again_only_with_Always()
    {
        var repo = Repo("app");
        await BuildImage($"{repo}:v1", "one");
        var digest = await Push($"{repo}:v1", Open);
        await RemoveLocal($"{Open}/{repo}:v1");

        await Apply(PodYaml("by-tag", $"{Open}/{repo}:v1"));
        await WaitRunning("by-tag");
        Assert.Equal("one", (await Kubectl("logs", "-n", Namespace, "by-tag")).Trim());
        var pulled = await Events("by-tag");
        Assert.Contains($"Pulling image \"{Open}/{repo}:v1\"", pulled);
        Assert.Matches($@"Successfully pulled image ""{Open}/{repo}:v1"" in [0-9.]+m?s \([0-9.]+m?s including waiting\)\. Image size: \d+ bytes\.", pulled);
        Assert.Equal($"docker-pullable://{Open}/{repo}@{digest}", await ImageId("by-tag"));

        await Apply(PodYaml("by-digest", $"{Open}/{repo}@{digest}"));
        await WaitRunning("by-digest");
        Assert.Equal($"docker-pullable://{Open}/{repo}@{digest}", await ImageId("by-digest"));
        Assert.Equal("IfNotPresent", await Kubectl("get", "pod", "-n", Namespace, "by-digest", "-o", "jsonpath={.spec.containers[0].imagePullPolicy}"));

        // the tag moves to a new image: IfNotPresent keeps the node's copy, Always pulls the new one (the push tags the
        // new image under the registry's name here too: the node's copy is given that name back, as a node that pulled it)
        var nodeCopy = (await Command.Run("docker", ["image", "inspect", "-f", "{{.Id}}", $"{Open}/{repo}:v1"], NoEnvironment, TimeSpan.FromMinutes(1))).Output.Trim();
        await BuildImage($"{repo}:v1", "two");
        var moved = await Push($"{repo}:v1", Open);
        Assert.NotEqual(digest, moved);
        var retag = await Command.Run("docker", ["tag", nodeCopy, $"{Open}/{repo}:v1"], NoEnvironment, TimeSpan.FromMinutes(1));
        Assert.True(retag.ExitCode == 0, retag.ToString());
        await Apply(PodYaml("if-not-present", $"{Open}/{repo}:v1", policy: "IfNotPresent"));
        await WaitRunning("if-not-present"); // before the Always pod's pull moves the node's tag
        await Apply(PodYaml("always", $"{Open}/{repo}:v1", policy: "Always"));
        await WaitRunning("always");
        Assert.Equal("one", (await Kubectl("logs", "-n", Namespace, "if-not-present")).Trim());
        Assert.Contains($"Container image \"{Open}/{repo}:v1\" already present on machine", await Events("if-not-present"));
        Assert.Equal("two", (await Kubectl("logs", "-n", Namespace, "always")).Trim());
        Assert.Equal($"docker-pullable://{Open}/{repo}@{moved}", await ImageId("always"));
    }

    [Fact]
    public async Task A_private_repository_backs_off_without_its_pull_secret_and_runs_with_it()
    {
        // pushed while the registry is open, then it restarts with htpasswd on the same storage
        var repo = Repo("private");
        await BuildImage($"{repo}:v1", "secret-ok");
        await Registry("start", Private);
        await Push($"{repo}:v1", Private);
        await RemoveLocal($"{Private}/{repo}:v1");
        await Registry("stop", Private);
        var htpasswd = Path.Combine(cluster.StateDir, $"htpasswd-{Suffix}");
        var made = await Command.Run("bash", ["-c", $"htpasswd -Bbn {User} {Password} > {htpasswd}"], NoEnvironment, TimeSpan.FromSeconds(30));
        Assert.True(made.ExitCode == 0, made.ToString());
        await Registry("start", Private, htpasswd);

        await Apply(PodYaml("no-secret", $"{Private}/{repo}:v1"));
        await cluster.Eventually(async () =>
            Assert.Equal("ImagePullBackOff", await Kubectl("get", "pod", "-n", Namespace, "no-secret", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}")),
            "ImagePullBackOff without the pull secret");
        // the back-off grows: 10 s, then 20 s between the pulls (timestamps are whole seconds)
        List<DateTime> failures = [];
        await cluster.Eventually(async () =>
        {
            failures = await FailedPullTimes("no-secret");
            Assert.True(failures.Count >= 3, $"{failures.Count} failed pulls so far");
        }, "three failed pulls", TimeSpan.FromMinutes(3));
        Assert.True(failures[1] - failures[0] >= TimeSpan.FromSeconds(9), $"first back-off {failures[1] - failures[0]}");
        Assert.True(failures[2] - failures[1] >= TimeSpan.FromSeconds(19), $"second back-off {failures[2] - failures[1]}");
        var events = await Events("no-secret");
        Assert.Contains($"Back-off pulling image \"{Private}/{repo}:v1\"", events);
        Assert.Contains("no basic auth credentials", events);

        await Kubectl("create", "secret", "docker-registry", "regcred", "-n", Namespace, $"--docker-server={Private}",
            $"--docker-username={User}", $"--docker-password={Password}");
        await Apply(PodYaml("with-secret", $"{Private}/{repo}:v1", extra: "imagePullSecrets: [ { name: regcred } ]"));
        await WaitRunning("with-secret");
        Assert.Equal("secret-ok", (await Kubectl("logs", "-n", Namespace, "with-secret")).Trim());

        // from the pod's ServiceAccount, copied into the pod when it is created (the local copy is removed first)
        await Kubectl("delete", "pod", "-n", Namespace, "with-secret", "--grace-period=0", "--force");
        await RemoveLocal($"{Private}/{repo}:v1");
        await Kubectl("create", "serviceaccount", "puller", "-n", Namespace);
        await Kubectl("patch", "serviceaccount", "puller", "-n", Namespace, "-p", """{"imagePullSecrets":[{"name":"regcred"}]}""");
        await Apply(PodYaml("from-account", $"{Private}/{repo}:v1", spec: "serviceAccountName: puller"));
        Assert.Equal("regcred", await Kubectl("get", "pod", "-n", Namespace, "from-account", "-o", "jsonpath={.spec.imagePullSecrets[0].name}"));
        await WaitRunning("from-account");
    }

    [Fact]
    public async Task A_stopped_registry_fails_the_pull_clearly_and_the_pod_starts_once_it_is_back()
    {
        var repo = Repo("outage");
        await BuildImage($"{repo}:v1", "back");
        await Push($"{repo}:v1", Open);
        await RemoveLocal($"{Open}/{repo}:v1");
        await Registry("stop", Open);

        await Apply(PodYaml("outage", $"{Open}/{repo}:v1"));
        await cluster.Eventually(async () =>
            Assert.Contains("connection refused", await Events("outage")), "the failed pull's reason in the events");
        // the event and the status travel separately (as the kubelet's do): the status may follow the event
        await cluster.Eventually(async () =>
            Assert.Contains(await Kubectl("get", "pod", "-n", Namespace, "outage", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"),
                new[] { "ErrImagePull", "ImagePullBackOff" }), "the failed pull's reason in the status");

        await Registry("start", Open);
        await WaitRunning("outage", TimeSpan.FromMinutes(2));
        Assert.Equal("back", (await Kubectl("logs", "-n", Namespace, "outage")).Trim());
    }

    [Fact]
    public async Task The_offline_stand_ins_run_unchanged_and_busybox_resolves_a_service_name()
    {
        // katacoda/docker-http-server:latest defaults to Always: its pull fails offline, the local build is used and said so
        await Kubectl("create", "deployment", "web", "-n", Namespace, "--image=katacoda/docker-http-server:latest");
        await Kubectl("expose", "deployment", "web", "-n", Namespace, "--port=80");
        await cluster.Eventually(async () =>
            Assert.Equal("1", await Kubectl("get", "deployment", "web", "-n", Namespace, "-o", "jsonpath={.status.readyReplicas}")), "the stand-in's pod Ready");
        Assert.Equal("Always", await Kubectl("get", "deployment", "web", "-n", Namespace, "-o", "jsonpath={.spec.template.spec.containers[0].imagePullPolicy}"));

        await Apply(PodYaml("lookup", "busybox:1.36", command: "until wget -q -O - http://web/; do sleep 1; done; nslookup web; sleep 3600"));
        await WaitRunning("lookup");
        var clusterIp = await Kubectl("get", "service", "web", "-n", Namespace, "-o", "jsonpath={.spec.clusterIP}");
        await cluster.Eventually(async () =>
        {
            var logs = await Kubectl("logs", "-n", Namespace, "lookup");
            Assert.Contains("This request was processed by host: web-", logs);
            Assert.Contains($"Address: {clusterIp}", logs);
        }, "busybox reached the service by name and nslookup answered");
        var pod = await Kubectl("get", "pods", "-n", Namespace, "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}");
        // on the shared cluster another class may have run the stand-in within the node's fallback memory: then the
        // pull is not tried again and the event says when it failed; either way it names the node's own build
        Assert.Contains("present on machine", await Events(pod));
        Assert.Contains("built or loaded on this node", await Events(pod));
    }

    private string PodYaml(string name, string image, string? policy = null, string extra = "", string spec = "",
        string command = "cat /message; sleep 3600") => $$"""
        apiVersion: v1
        kind: Pod
        metadata: { name: {{name}}, namespace: {{Namespace}} }
        spec:
          {{spec}}
          {{extra}}
          terminationGracePeriodSeconds: 1
          containers:
          - name: main
            image: "{{image}}"
            {{(policy is null ? "" : $"imagePullPolicy: {policy}")}}
            command: [sh, -c, {{System.Text.Json.JsonSerializer.Serialize(command)}}]
        """;

    /// <summary>A busybox image whose /message holds <paramref name="message"/>, from the machine's busybox-static.</summary>
    private async Task BuildImage(string tag, string message)
    {
        var script = $$"""
            set -e
            bb=$(command -v busybox || true); [ -n "$bb" ] || { echo "busybox-static is required"; exit 1; }
            d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
            mkdir -p "$d/bin"; cp "$bb" "$d/bin/busybox"
            for a in sh cat sleep; do ln -s busybox "$d/bin/$a"; done
            echo {{message}} > "$d/message"
            tar -C "$d" -c . | docker import --change 'ENV PATH=/bin' --change 'LABEL io.orchestrator.test=e2e' - {{tag}} >/dev/null
            """;
        var result = await Command.Run("bash", ["-c", script], NoEnvironment, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    /// <summary>orchctl image push; returns the digest it printed.</summary>
    private async Task<string> Push(string image, string registry)
    {
        var result = await Command.Run(Path.Combine(cluster.StateDir, "path", "orchctl"), ["image", "push", image, "--registry", registry],
            cluster.Environment, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.ToString());
        output.WriteLine(result.Output);
        var match = System.Text.RegularExpressions.Regex.Match(result.Output, @"\((sha256:[0-9a-f]{64})\)");
        Assert.True(match.Success, result.Output);
        return match.Groups[1].Value;
    }

    /// <summary>Removes the registry-named tag from the local store, so the node must pull it.</summary>
    private static async Task RemoveLocal(string image) =>
        await Command.Run("docker", ["rmi", "-f", image], NoEnvironment, TimeSpan.FromMinutes(1));

    private async Task Registry(string command, string address, string? htpasswd = null)
    {
        var result = await Command.Run("bash", [Path.Combine(cluster.RepoRoot, "deploy", "lib", "registry.sh"), command, address, .. htpasswd is null ? Array.Empty<string>() : [htpasswd]],
            cluster.Environment, TimeSpan.FromMinutes(2));
        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    private async Task Apply(string yaml)
    {
        var result = await cluster.KubectlWithInput(yaml, "apply", "-f", "-");
        Assert.True(result.ExitCode == 0, result + "\n" + yaml);
    }

    private Task WaitRunning(string pod, TimeSpan? within = null) =>
        cluster.Eventually(async () =>
            Assert.Equal("Running", await Kubectl("get", "pod", "-n", Namespace, pod, "-o", "jsonpath={.status.phase}")), $"pod {pod} Running", within);

    private Task<string> ImageId(string pod) =>
        Kubectl("get", "pod", "-n", Namespace, pod, "-o", "jsonpath={.status.containerStatuses[0].imageID}");

    private async Task<string> Events(string pod)
    {
        var text = await Kubectl("get", "events", "-n", Namespace, "--field-selector", $"involvedObject.name={pod}", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}");
        return text;
    }

    private async Task<List<DateTime>> FailedPullTimes(string pod)
    {
        var json = JsonNode.Parse(await Kubectl("get", "events", "-n", Namespace, "--field-selector", $"involvedObject.name={pod}", "-o", "json"))!;
        return json["items"]!.AsArray()
            .Where(e => e!["reason"]?.GetValue<string>() == "Failed" && e["message"]!.GetValue<string>().StartsWith("Failed to pull image", StringComparison.Ordinal))
            .Select(e => DateTime.Parse(e!["firstTimestamp"]!.GetValue<string>(), null, System.Globalization.DateTimeStyles.AdjustToUniversal))
            .OrderBy(t => t)
            .ToList();
    }

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }
}
