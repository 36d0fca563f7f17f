using System.Net.Http;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// The seed's command lines (sections 2 and 3, and the README's Guestbook commands for section 4, which has none) typed
/// into a shell with orchctl in place of kubectl, verbatim but for the
/// external IP (127.0.0.51 instead of 172.17.0.28), and the results the seed describes: real Docker, real HTTP.
/// orchctl is the one deploy/up.sh built into the cluster's bin directory and linked into ORCH_BIN_DIR, on PATH.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class OrchctlTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    [Fact, Step(1)]
    public async Task Get_nodes_lists_the_node_ready()
    {
        Assert.Matches($@"(?m)^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s*$", await Shell("orchctl get nodes"));
        Assert.Matches($@"(?m)^{ClusterFixture.NodeName}\s+Ready\s+", await Shell("orchctl get nodes"));
    }

    [Fact, Step(2)]
    public async Task Run_and_expose_answer_on_the_external_ip()
    {
        Assert.Equal("deployment.apps/http created", (await Shell("orchctl run http --image=katacoda/docker-http-server:latest --replicas=1")).Trim());
        Assert.Equal("service/http exposed", (await Shell("orchctl expose deployment http --external-ip=\"127.0.0.51\" --port=8000 --target-port=80")).Trim());

        Assert.StartsWith("http-", await EventuallyServedHost("http://127.0.0.51:8000/"));
        Assert.Matches(@"(?m)^http\s+ClusterIP\s+\S+\s+127\.0\.0\.51\s+8000/TCP", await Shell("orchctl get svc"));
        var deployment = await Shell("orchctl get deployment http -o yaml");
        Assert.Contains("run: http", deployment);
        Assert.Matches(@"(?m)^\s+replicas: 1$", deployment);
    }

    [Fact, Step(3)]
    public async Task Run_with_a_hostport_answers_without_a_service()
    {
        await Shell("orchctl run httpexposed --image=katacoda/docker-http-server:latest --replicas=1 --port=80 --hostport=8001");

        Assert.StartsWith("httpexposed-", await EventuallyServedHost("http://127.0.0.1:8001/"));
        var services = await Shell("orchctl get svc");
        Assert.DoesNotContain("httpexposed", services);
        Assert.Contains("http ", services);
    }

    [Fact, Step(4)]
    public async Task Yaml_deployment_and_node_port_service()
    {
        var examples = Path.Combine(cluster.RepoRoot, "deploy", "examples");
        Assert.Equal("deployment.apps/webapp1 created", (await Shell("orchctl create -f deployment.yaml", examples)).Trim());
        await Eventually(async () =>
            Assert.Matches(@"(?m)^webapp1\s+1/1\s+1\s+1\s+", await Shell("orchctl get deployment")), "webapp1 READY 1/1");
        var describe = await Shell("orchctl describe deployment webapp1");
        Assert.Matches(@"Replicas:\s+1 desired \| 1 updated \| 1 total \| 1 available \| 0 unavailable", describe);
        Assert.Matches(@"Selector:\s+app=webapp1", describe);
        Assert.Matches(@"Image:\s+katacoda/docker-http-server:latest", describe);
        Assert.Matches(@"Port:\s+80/TCP", describe);
        Assert.Contains("ScalingReplicaSet", describe);

        Assert.Equal("service/webapp1-svc created", (await Shell("orchctl create -f service.yaml", examples)).Trim());
        Assert.Matches(@"(?m)^webapp1-svc\s+NodePort\s+[\d.]+\s+<none>\s+80:30080/TCP", await Shell("orchctl get svc"));
        await Eventually(async () =>
        {
            var svc = await Shell("orchctl describe svc webapp1-svc");
            Assert.Matches(@"NodePort:\s+<unset>\s+30080/TCP", svc);
            Assert.Matches(@"Endpoints:\s+[\d.]+:\d+", svc);
        }, "webapp1-svc has an endpoint");
        // The seed's `curl host01:30080`: the node's address here is 127.0.0.1.
        Assert.StartsWith("webapp1-", await EventuallyServedHost("http://127.0.0.1:30080/"));
    }

    [Fact, Step(5)]
    public async Task Scale_get_wide_names_and_logs()
    {
        // A watch started before the scale prints the new pod's rows as they change, under one header. It is ended once
        // it has printed a pod it did not list first as 1/1 Running (the last change the scale makes), else after 20 s.
        var watch = Command.RunUntil(Orchctl(), ["get", "pods", "-l", "app=webapp1", "-w"], Environment(), TimeSpan.FromSeconds(20),
            until: NewPodRunning);
        await Task.Delay(2000); // let the watch list first, so the new pod arrives as watch events
        Assert.Equal("deployment.apps/webapp1 scaled", (await Shell("orchctl scale deployment webapp1 --replicas=2")).Trim());
        await Eventually(async () =>
            Assert.Matches(@"(?m)^webapp1\s+2/2\s+2\s+2\s+", await Shell("orchctl get deploy")), "webapp1 READY 2/2");
        Assert.Matches(@"(?m)^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE", await Shell("orchctl get pods -o wide -l app=webapp1"));
        var watched = (await watch).Output;
        output.WriteLine("watch:\n" + watched);
        Assert.Single(Regex.Matches(watched, @"(?m)^NAME\s+READY\s+STATUS"));
        Assert.True(Regex.Matches(watched, @"(?m)^webapp1-\S+").Select(m => m.Value).Distinct().Count() >= 2, watched);
        Assert.Matches(@"(?m)^webapp1-\S+\s+1/1\s+Running", watched);
        var names = (await Shell("orchctl get po -l app=webapp1 -o name")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, names.Length);
        Assert.All(names, n => Assert.StartsWith("pod/webapp1-", n));

        // The demo server writes one line at start; the node relays it through the master.
        var logs = await Shell($"orchctl logs {names[0]["pod/".Length..]}");
        Assert.Contains("http-server: listening on port 80", logs);
    }

    /// <summary>Whether a watch of webapp1's pods has shown a pod that was not in its first listing (its rows up to the
    /// first one that is not 1/1 Running) as 1/1 Running. A new pod first seen already Running counts as listed: the
    /// watch then runs its whole 20 s, as it always did.</summary>
    private static bool NewPodRunning(string watched)
    {
        var rows = Regex.Matches(watched, @"(?m)^(webapp1-\S+)\s+(\S+)\s+(\S+)").Select(m => (Name: m.Groups[1].Value, Ready: m.Groups[2].Value, Status: m.Groups[3].Value)).ToList();
        var listed = rows.TakeWhile(r => r.Ready == "1/1" && r.Status == "Running").Select(r => r.Name).ToHashSet();
        return rows.Any(r => !listed.Contains(r.Name) && r.Ready == "1/1" && r.Status == "Running") && watched.EndsWith('\n');
    }

    [Fact, Step(6)]
    public async Task Errors_are_one_line_with_a_non_zero_exit()
    {
        var notFound = await Run(["get", "deployment", "no-such-deployment"]);
        Assert.Equal(1, notFound.ExitCode);
        Assert.Equal("Error from server (NotFound): deployments.apps \"no-such-deployment\" not found", notFound.Error.Trim());
        var noImage = await Run(["run", "x", "--replicas=1"]);
        Assert.Equal(1, noImage.ExitCode);
        Assert.Single(noImage.Error.Trim().Split('\n'));
        var unknownFlag = await Run(["expose", "deployment", "http", "--colour=red"]);
        Assert.Equal(1, unknownFlag.ExitCode);
        Assert.Contains("unknown flag: --colour", unknownFlag.Error);
    }

    [Fact, Step(7)]
    public async Task Apply_and_delete_by_file_and_name_clean_up()
    {
        var examples = Path.Combine(cluster.RepoRoot, "deploy", "examples");
        Assert.Contains("deployment.apps/webapp1 configured", await Shell("orchctl apply -f deployment.yaml", examples));
        Assert.Contains("deployment.apps/webapp1 unchanged", await Shell("orchctl apply -f deployment.yaml", examples));
        await Eventually(async () =>
            Assert.Matches(@"(?m)^webapp1\s+1/1\s+1\s+1\s+", await Shell("orchctl get deployment webapp1")), "webapp1 back to 1 replica");

        var deleted = await Shell("orchctl delete -f deployment.yaml -f service.yaml", examples);
        Assert.Contains("deployment.apps \"webapp1\" deleted", deleted);
        Assert.Contains("service \"webapp1-svc\" deleted", deleted);
        await Shell("orchctl delete svc http && orchctl delete deployment http httpexposed");
        await Eventually(async () => Assert.Empty(await PodContainers()), "every pod container removed");
        var left = await Run(["get", "deployments,services", "-o", "name"]);
        Assert.True(left.ExitCode == 0, left.ToString());
        Assert.DoesNotContain("deployment", left.Output);
        Assert.DoesNotContain("http", left.Output);
        Assert.DoesNotContain("webapp1", left.Output);
    }

    [Fact, Step(8)]
    public async Task The_readmes_curl_examples_work_as_written()
    {
        // The README's block, with only what differs in this private cluster: API port, kubeconfig user, data directory.
        var readme = await File.ReadAllTextAsync(Path.Combine(cluster.RepoRoot, "README.md"));
        var block = Regex.Match(readme, @"## The REST API by hand \(curl\).*?```sh\n(?<script>.*?)```", RegexOptions.Singleline).Groups["script"].Value;
        Assert.Contains("api -X PATCH", block);
        var script = block.Replace("127.0.0.1:6443", "127.0.0.1:16443")
            .Replace("@.name==\"orchestrator\"", $"@.name==\"{ClusterFixture.Context}\"")
            .Replace("CA=.state/master/ca.crt", $"CA={Path.Combine(cluster.StateDir, "master", "ca.crt")}");
        var result = await Command.Run("bash", ["-e", "-c", script], Environment(), TimeSpan.FromMinutes(2));
        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"processed by host: hello-", result.Output);
        // curl gets indented JSON, as kube-apiserver gives it to curl, wget and browsers
        Assert.Contains("\"kind\": \"Scale\"", result.Output);
        Assert.Contains("\"kind\": \"Table\"", result.Output);
        await Eventually(async () => Assert.Empty(await PodContainers()), "hello's containers removed");
    }

    [Fact, Step(9)]
    public async Task The_guestbook_runs_from_its_manifests()
    {
        // Section 4 of the seed has no command lines of its own: these are the README's, with orchctl.
        await Shell("orchctl create -f deploy/examples/guestbook/");
        Assert.Matches(@"(?m)^frontend\s+3\s+", await Shell("orchctl get rc"));
        await Eventually(async () =>
            Assert.Matches(@"(?m)^frontend\s+3\s+3\s+3\s+", await Shell("orchctl get rc")), "three frontends ready");
        var port = Regex.Match(await Shell("orchctl get svc frontend"), @"80:(3\d{4})/TCP").Groups[1].Value;
        Assert.Matches(@"^3\d{4}$", port);
        await Eventually(async () => Assert.Equal("{\"message\": \"Updated\"}",
            await Http.GetStringAsync($"http://127.0.0.1:{port}/guestbook.php?cmd=set&key=messages&value=hello")), "set");
        await Eventually(async () => Assert.Equal("{\"data\": \"hello\"}",
            await Http.GetStringAsync($"http://127.0.0.1:{port}/guestbook.php?cmd=get&key=messages")), "get from a replica");
        Assert.Matches(@"Endpoints:\s+[\d.]+:80", await Shell("orchctl describe svc frontend"));

        await Shell("orchctl delete -f deploy/examples/guestbook/");
        await Eventually(async () => Assert.DoesNotContain(await PodContainers(), n => n.StartsWith("frontend-") || n.StartsWith("redis-")),
            "the guestbook's containers removed");
    }

    /// <summary>Runs a command line in bash, with orchctl on PATH, exactly as a person types it.</summary>
    private async Task<string> Shell(string commandLine, string? directory = null)
    {
        var result = await Command.Run("bash", ["-c", $"cd {directory ?? cluster.RepoRoot} && {commandLine}"], Environment(), TimeSpan.FromMinutes(2));
        output.WriteLine($"$ {commandLine}\n{result.Output}{result.Error}");
        Assert.True(result.ExitCode == 0, $"{commandLine} failed: {result}");
        return result.Output;
    }

    private Task<CommandResult> Run(string[] args) =>
        Command.Run(Orchctl(), args, Environment(), TimeSpan.FromMinutes(2));

    private Dictionary<string, string> Environment()
    {
        var env = new Dictionary<string, string>(cluster.Environment)
        {
            ["PATH"] = Path.GetDirectoryName(Orchctl()) + ":" + System.Environment.GetEnvironmentVariable("PATH"),
        };
        return env;
    }

    // deploy/up.sh built the CLI with the cluster and linked it as orchctl into ORCH_BIN_DIR (the fixture's "path").
    private string Orchctl()
    {
        var link = Path.Combine(cluster.StateDir, "path", "orchctl");
        Assert.True(File.Exists(link), $"deploy/up.sh did not put orchctl at {link}");
        return link;
    }

    private static Task<List<string>> PodContainers() => ClusterFixture.PodNamesOnNode();

    private static Task<string> ServedHost(string url) => DemoPage.ServedHost(Http, url);

    private async Task<string> EventuallyServedHost(string url)
    {
        string? host = null;
        await Eventually(async () => host = await ServedHost(url), $"an answer from {url}");
        return host!;
    }

    private Task Eventually(Func<Task> assertion, string what) => cluster.Eventually(assertion, what);
}
