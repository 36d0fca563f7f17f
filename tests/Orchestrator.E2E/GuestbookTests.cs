using System.Diagnostics;
using System.Net;
using System.Net.Http;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// The seed's fourth tutorial, the Guestbook, on a real cluster: redis-master and redis-replica
/// ReplicationControllers and Services, the frontend (3 replicas) behind a NodePort. Each step runs in its own
/// namespace, so the Services have the upstream names (the images find each other by them) and still never clash.
/// Cluster DNS forwards other names to a fake upstream DNS server this class runs on 127.0.0.77:53 (no other class does).
/// The cluster is SharedClusterCollection's: the namespaces keep it apart from the other classes'.
/// </summary>
[Collection(SharedClusterCollection.Name)]
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class GuestbookTests(ClusterFixture cluster, ITestOutputHelper output) : IAsyncLifetime
{
    private const string UpstreamName = "guestbook-upstream.example";
    private static readonly IPAddress UpstreamAnswer = IPAddress.Parse("127.0.0.99");
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly List<string> _namespaces = [];
    private DnsServer? _upstream;

    private string Examples => Path.Combine(cluster.RepoRoot, "deploy", "examples", "guestbook");

    public Task InitializeAsync()
    {
        _upstream = new DnsServer(new UdpServerTransport(new IPEndPoint(IPAddress.Parse(ClusterFixture.FakeUpstreamDns), 53)),
            new TcpServerTransport(new IPEndPoint(IPAddress.Parse(ClusterFixture.FakeUpstreamDns), 53)));
        _upstream.QueryReceived += (_, e) =>
        {
            if (e.Query is DnsMessage query)
            {
                var response = query.CreateResponseInstance();
                var question = query.Questions[0];
                if (question.Name.Equals(DomainName.Parse(UpstreamName)) && question.RecordType == RecordType.A)
                    response.AnswerRecords.Add(new ARecord(question.Name, 30, UpstreamAnswer));
                else response.ReturnCode = ReturnCode.NxDomain;
                e.Response = response;
            }
            return Task.CompletedTask;
        };
        _upstream.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        try { _upstream?.Stop(); } catch (AggregateException) { } // Stop may report its cancelled receive loops
        foreach (var ns in _namespaces)
        {
            await cluster.Kubectl("-n", ns, "delete", "rc,svc", "--all", "--wait=false");
            await cluster.Kubectl("delete", "namespace", ns, "--wait=false");
        }
    }

    [Fact, Step(1)]
    public async Task Guestbook_sets_and_gets_through_the_node_port_with_hosts_from_dns()
    {
        var ns = await Deploy("dns");
        var nodePort = await NodePort(ns);

        await Eventually(async () => Assert.Equal("{\"message\": \"Updated\"}", await Get(nodePort, "cmd=set&key=greeting&value=hello-dns")), "set");
        // the frontend reads from the replica service: the value arrives there by replication from redis-master
        await Eventually(async () => Assert.Equal("{\"data\": \"hello-dns\"}", await Get(nodePort, "cmd=get&key=greeting")), "get from a replica");
        var replica = (await Containers(ns, "replica"))[0];
        var logs = await Docker("logs", replica);
        Assert.Contains("Connecting to MASTER redis-master:6379", logs.Output + logs.Error);
        Assert.Contains("MASTER <-> REPLICA sync: Finished with success", logs.Output + logs.Error);
    }

    [Fact, Step(2)]
    public async Task Pods_resolve_services_and_upstream_names()
    {
        var ns = _namespaces.FirstOrDefault() ?? await Deploy("dns");
        var frontend = (await Containers(ns, "php-redis"))[0];
        var clusterIp = (await cluster.Kubectl("-n", ns, "get", "svc", "redis-master", "-o", "jsonpath={.spec.clusterIP}")).Output.Trim();

        var shortName = await Docker("exec", frontend, "getent", "hosts", "redis-master");
        Assert.StartsWith(clusterIp + " ", shortName.Output);
        var fqdn = await Docker("exec", frontend, "getent", "hosts", $"redis-master.{ns}.svc.cluster.local");
        Assert.StartsWith(clusterIp + " ", fqdn.Output);
        var upstream = await Docker("exec", frontend, "getent", "hosts", UpstreamName);
        Assert.StartsWith(UpstreamAnswer + " ", upstream.Output);
        var missing = await Docker("exec", frontend, "getent", "hosts", $"no-such-service.{ns}.svc.cluster.local");
        Assert.NotEqual(0, missing.ExitCode);
        output.WriteLine($"redis-master -> {shortName.Output.Trim()}; {UpstreamName} -> {upstream.Output.Trim()}");
    }

    [Fact, Step(3)]
    public async Task Guestbook_works_with_hosts_from_environment_variables()
    {
        var ns = await Deploy("env", hostsFrom: "env");
        var nodePort = await NodePort(ns);
        var frontend = (await Containers(ns, "php-redis"))[0];
        var env = await Docker("exec", frontend, "env");
        var clusterIp = (await cluster.Kubectl("-n", ns, "get", "svc", "redis-master", "-o", "jsonpath={.spec.clusterIP}")).Output.Trim();
        Assert.Contains($"REDIS_MASTER_SERVICE_HOST={clusterIp}", env.Output);
        Assert.Contains("REDIS_MASTER_SERVICE_PORT=6379", env.Output);
        Assert.Contains($"REDIS_MASTER_PORT_6379_TCP=tcp://{clusterIp}:6379", env.Output);

        await Eventually(async () => Assert.Equal("{\"message\": \"Updated\"}", await Get(nodePort, "cmd=set&key=greeting&value=hello-env")), "set");
        await Eventually(async () => Assert.Equal("{\"data\": \"hello-env\"}", await Get(nodePort, "cmd=get&key=greeting")), "get from a replica");
        var logs = await Docker("logs", (await Containers(ns, "replica"))[0]);
        Assert.Contains($"Connecting to MASTER {clusterIp}:6379", logs.Output + logs.Error);
    }

    [Fact, Step(4)]
    public async Task Killing_a_frontend_container_under_a_steady_stream()
    {
        var ns = _namespaces.FirstOrDefault() ?? await Deploy("dns");
        var nodePort = await NodePort(ns);
        await Eventually(async () => Assert.Equal("{\"message\": \"Updated\"}", await Get(nodePort, "cmd=set&key=stream&value=v")), "set");
        await Eventually(async () => Assert.Equal("{\"data\": \"v\"}", await Get(nodePort, "cmd=get&key=stream")), "get");

        var victim = (await Containers(ns, "php-redis"))[0];
        int ok = 0, failed = 0;
        var stopwatch = Stopwatch.StartNew();
        var killed = false;
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(12))
        {
            if (!killed && stopwatch.Elapsed > TimeSpan.FromSeconds(2))
            {
                await Docker("kill", victim);
                killed = true;
            }
            try
            {
                if (await Get(nodePort, "cmd=get&key=stream") == "{\"data\": \"v\"}") ok++;
                else failed++;
            }
            catch (Exception) { failed++; }
            await Task.Delay(20);
        }
        output.WriteLine($"steady stream across a killed frontend container: {ok} answered, {failed} lost");
        // the stream goes on: the last requests are all answered
        for (var i = 0; i < 20; i++) Assert.Equal("{\"data\": \"v\"}", await Get(nodePort, "cmd=get&key=stream"));
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /// <summary>Services first (so pods started after them get their env vars), then the controllers.</summary>
    private async Task<string> Deploy(string name, string hostsFrom = "dns")
    {
        var ns = $"gb-{name}-{Guid.NewGuid():N}"[..16];
        _namespaces.Add(ns);
        await Kubectl("create", "namespace", ns);
        foreach (var file in Directory.GetFiles(Examples, "*-service.yaml").Order())
            await Kubectl("-n", ns, "apply", "-f", file);
        foreach (var file in Directory.GetFiles(Examples, "*-controller.yaml").Order())
        {
            var yaml = (await File.ReadAllTextAsync(file)).Replace("value: dns", $"value: {hostsFrom}");
            var result = await cluster.KubectlWithInput(yaml, "-n", ns, "apply", "-f", "-");
            Assert.True(result.ExitCode == 0, result.ToString());
        }
        await Eventually(async () => Assert.Equal(3, (await Containers(ns, "php-redis")).Count), "three frontend containers");
        await Eventually(async () => Assert.Equal(2, (await Containers(ns, "replica")).Count), "two replica containers");
        await Eventually(async () => Assert.Single(await Containers(ns, "master")), "the master container");
        return ns;
    }

    private async Task<int> NodePort(string ns) =>
        int.Parse((await Kubectl("-n", ns, "get", "svc", "frontend", "-o", "jsonpath={.spec.ports[0].nodePort}")).Trim());

    private static Task<string> Get(int nodePort, string query) =>
        Http.GetStringAsync($"http://127.0.0.1:{nodePort}/guestbook.php?{query}");

    private static async Task<List<string>> Containers(string ns, string container)
    {
        var result = await Docker("ps", "-q", "--filter", $"label=io.orchestrator.node={ClusterFixture.NodeName}",
            "--filter", $"label=io.orchestrator.pod.namespace={ns}", "--filter", $"label=io.orchestrator.container.name={container}");
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private static Task<CommandResult> Docker(params string[] args) =>
        Command.Run("docker", args, new Dictionary<string, string>(), TimeSpan.FromSeconds(30));

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {result}");
        return result.Output;
    }

    private Task Eventually(Func<Task> assertion, string what) => cluster.Eventually(assertion, what);
}
