using System.Net.Http;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// The seed's tutorials 1–3 as a person types them, against a real cluster (deploy/up.sh), real Docker,
/// real kubectl and real HTTP through the node's service proxy, with up.sh's defaults (the master and the node in one
/// process). Steps run in order; the restart step is last.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class WalkthroughTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private static readonly HttpClient Http = DemoPage.ConnectionPerRequest(TimeSpan.FromSeconds(5));
    private string Example(string name) => Path.Combine(cluster.RepoRoot, "deploy", "examples", name);

    [Fact, Step(1)]
    public async Task Node_is_ready_after_up()
    {
        var nodes = await Kubectl("get", "nodes");
        Assert.Matches(@"(?m)^\S+\s+Ready\s+", nodes);
    }

    [Fact, Step(1)]
    public async Task The_master_and_the_node_are_one_process_by_default()
    {
        var pid = (await File.ReadAllTextAsync(PidFile("master"))).Trim();
        Assert.Equal(pid, (await File.ReadAllTextAsync(PidFile("node"))).Trim());
        var commandLine = (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).Split('\0');
        Assert.Contains(commandLine, a => a.EndsWith("orchestrator-all-in-one.dll", StringComparison.Ordinal));
        Assert.Contains(commandLine, a => a == "--");
        // the one log tells the two apart
        var log = await File.ReadAllTextAsync(Path.Combine(cluster.StateDir, "logs", "all-in-one.log"));
        Assert.Contains("[master] ", log);
        Assert.Contains("[node] ", log);
    }

    [Fact, Step(2)]
    public async Task Created_deployment_answers_on_its_external_ip()
    {
        // kubectl sends this create as a protobuf body.
        await Kubectl("create", "deployment", "http", "--image=katacoda/docker-http-server:latest");
        await Kubectl("expose", "deployment", "http", "--external-ip=127.0.0.50", "--port=8000", "--target-port=80");

        var host = await EventuallyServedHost("http://127.0.0.50:8000/");
        Assert.StartsWith("http-", host);
        Assert.Matches(@"(?m)^http\s+ClusterIP\s+\S+\s+127\.0\.0\.50\s+8000/TCP", await Kubectl("get", "svc"));

        await Kubectl("delete", "service", "http");
        await Kubectl("delete", "deployment", "http");
    }

    [Fact, Step(3)]
    public async Task Host_port_deployment_answers_without_a_service()
    {
        await Kubectl("create", "-f", Example("httpexposed.yaml"));

        var host = await EventuallyServedHost("http://127.0.0.1:8001/");
        Assert.StartsWith("httpexposed-", host);
        Assert.DoesNotContain("httpexposed", await Kubectl("get", "svc"));

        await Kubectl("delete", "deployment", "httpexposed");
        await Eventually(async () => Assert.Empty(await PodContainers("httpexposed")), "httpexposed's containers removed");
    }

    [Fact, Step(4)]
    public async Task Yaml_deployment_behind_a_node_port_scales_and_balances()
    {
        await Kubectl("create", "-f", Example("deployment.yaml"));
        await Kubectl("create", "-f", Example("service.yaml"));

        await Eventually(async () =>
            Assert.Matches(@"(?m)^webapp1\s+1/1\s+1\s+1\s+", await Kubectl("get", "deployment")), "webapp1 READY 1/1");
        var describe = await Kubectl("describe", "deployment", "webapp1");
        Assert.Matches(@"Replicas:\s+1 desired \| 1 updated \| 1 total \| 1 available \| 0 unavailable", describe);
        Assert.Contains("ScalingReplicaSet", describe);
        Assert.Matches(@"(?m)^webapp1-svc\s+NodePort\s+[\d.]+\s+<none>\s+80:30080/TCP", await Kubectl("get", "svc"));
        await Eventually(async () =>
        {
            var svc = await Kubectl("describe", "svc", "webapp1-svc");
            Assert.Matches(@"NodePort:\s+<unset>\s+30080/TCP", svc);
            Assert.Matches(@"Endpoints:\s+[\d.]+:80", svc);
        }, "webapp1-svc has an endpoint");
        Assert.StartsWith("webapp1-", await EventuallyServedHost("http://127.0.0.1:30080/"));

        await Kubectl("scale", "deployment", "webapp1", "--replicas=3");
        await Eventually(async () => Assert.Equal(3, (await PodContainers("webapp1")).Count), "three webapp1 containers");
        await Eventually(async () =>
            Assert.Matches(@"(?m)^webapp1\s+3/3\s+3\s+3\s+", await Kubectl("get", "deployment")), "webapp1 READY 3/3");

        var hosts = new HashSet<string>();
        await Eventually(async () =>
        {
            for (var i = 0; i < 30; i++) hosts.Add(await ServedHost("http://127.0.0.1:30080/"));
            Assert.Equal(3, hosts.Count);
        }, "30 requests answered by three host names");
        output.WriteLine("hosts: " + string.Join(", ", hosts));

        await Kubectl("delete", "deployment", "webapp1");
        await Eventually(async () => Assert.Empty(await PodContainers("webapp1")), "webapp1's containers removed");
        await Kubectl("delete", "service", "webapp1-svc");
    }

    [Fact, Step(5)]
    public async Task Bad_input_is_refused_with_the_servers_message_and_nothing_is_stored()
    {
        var invalidName = await cluster.KubectlWithInput("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: Bad_Name }
            spec:
              selector: { matchLabels: { app: bad } }
              template:
                metadata: { labels: { app: bad } }
                spec: { containers: [ { name: c, image: katacoda/docker-http-server:latest } ] }
            """, "create", "-f", "-");
        Assert.NotEqual(0, invalidName.ExitCode);
        Assert.Contains("is invalid", invalidName.Error);
        Assert.Contains("metadata.name", invalidName.Error);

        var unknownKind = await cluster.KubectlWithInput("""
            apiVersion: v1
            kind: Frobnicator
            metadata: { name: frob }
            """, "create", "-f", "-");
        Assert.NotEqual(0, unknownKind.ExitCode);
        Assert.Contains("Frobnicator", unknownKind.Error);

        var malformed = await cluster.KubectlWithInput("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":",
            "create", "--raw", "/api/v1/namespaces/default/pods", "-f", "-");
        Assert.NotEqual(0, malformed.ExitCode);
        Assert.Contains("BadRequest", malformed.Error + malformed.Output);

        var wrongKind = await cluster.KubectlWithInput("""{"apiVersion":"v1","kind":"Frobnicator","metadata":{"name":"frob"}}""",
            "create", "--raw", "/api/v1/namespaces/default/pods", "-f", "-");
        Assert.NotEqual(0, wrongKind.ExitCode);

        var everything = await Kubectl("get", "deployments,pods,services", "-o", "name");
        Assert.DoesNotContain("Bad_Name", everything, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("frob", everything);
    }

    [Fact, Step(6)]
    public async Task Objects_survive_down_and_up()
    {
        await Kubectl("create", "deployment", "survivor", "--image=katacoda/docker-http-server:latest");
        await Kubectl("expose", "deployment", "survivor", "--type=NodePort", "--port=80");
        await Eventually(async () => Assert.Single(await PodContainers("survivor")), "survivor's container");
        var nodePort = (await Kubectl("get", "svc", "survivor", "-o", "jsonpath={.spec.ports[0].nodePort}")).Trim();

        var pid = (await File.ReadAllTextAsync(PidFile("master"))).Trim();
        var logged = new FileInfo(cluster.MasterLog).Length;
        var down = await cluster.Script("down.sh");
        Assert.True(down.ExitCode == 0, down.ToString());
        // one SIGTERM stops the one process, node first, then master; both pid files go
        Assert.Contains($"stopped the master and the node (pid {pid})", down.Output);
        Assert.False(Runs(pid), $"pid {pid} still runs");
        Assert.False(File.Exists(PidFile("master")) || File.Exists(PidFile("node")), "a pid file is left");
        // a clean stop: no error line of the process's (orchestrator-all-in-one: the node failed: …)
        Assert.DoesNotContain("orchestrator-all-in-one:", await LogSince(cluster.MasterLog, logged));
        Assert.Empty((await Command.Run("docker", ["ps", "-q", "--filter", $"label=io.orchestrator.node={ClusterFixture.NodeName}"],
            new Dictionary<string, string>(), TimeSpan.FromSeconds(30))).Output.Trim());

        var up = await cluster.Script("up.sh");
        Assert.True(up.ExitCode == 0, up + cluster.Logs());
        Assert.Contains("survivor", await Kubectl("get", "deployments"));
        Assert.Equal(nodePort, (await Kubectl("get", "svc", "survivor", "-o", "jsonpath={.spec.ports[0].nodePort}")).Trim());
        Assert.StartsWith("survivor-", await EventuallyServedHost($"http://127.0.0.1:{nodePort}/"));

        var again = await cluster.Script("up.sh");
        Assert.Contains("already running", again.Output);
        Assert.Contains("(one process)", again.Output);
    }

    private string PidFile(string role) => Path.Combine(cluster.StateDir, role + ".pid");

    /// <summary>Whether the process exists and is not a zombie (down.sh's process is reparented to init, which reaps
    /// it when it gets to it: deploy/lib/common.sh's process_alive).</summary>
    private static bool Runs(string pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>What a log got after its first <paramref name="offset"/> bytes (the logs are appended run after run).</summary>
    private static async Task<string> LogSince(string path, long offset)
    {
        await using var file = File.OpenRead(path);
        file.Seek(offset, SeekOrigin.Begin);
        return await new StreamReader(file).ReadToEndAsync();
    }

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed: {result}");
        return result.Output;
    }

    private static async Task<List<string>> PodContainers(string prefix) =>
        (await ClusterFixture.PodNamesOnNode()).Where(name => name.StartsWith(prefix + "-")).ToList();

    private static Task<string> ServedHost(string url) => DemoPage.ServedHost(Http, url);

    private async Task<string> EventuallyServedHost(string url)
    {
        string? host = null;
        await Eventually(async () => host = await ServedHost(url), $"an answer from {url}");
        return host!;
    }

    private Task Eventually(Func<Task> assertion, string what) => cluster.Eventually(assertion, what);
}
