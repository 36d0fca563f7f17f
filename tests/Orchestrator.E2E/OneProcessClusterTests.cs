using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// deploy/up.sh with ORCH_ONE_PROCESS=1: the master and the node in one process (orchestrator-all-in-one, issue 19).
/// A pod answers through a NodePort Service, each /metrics still shows only its own families, and deploy/down.sh
/// stops the process (node first, then master) and removes both pid files.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class OneProcessClusterTests(OneProcessClusterFixture cluster, ITestOutputHelper output) : IClassFixture<OneProcessClusterFixture>
{
    private static readonly string Name = $"oneproc-{Guid.NewGuid().ToString("N")[..6]}";

    private string PidFile(string role) => Path.Combine(cluster.StateDir, role + ".pid");

    [Fact, Step(1)]
    public async Task The_master_and_the_node_are_one_process()
    {
        var pid = (await File.ReadAllTextAsync(PidFile("master"))).Trim();
        Assert.Equal(pid, (await File.ReadAllTextAsync(PidFile("node"))).Trim());
        var commandLine = (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).Split('\0');
        Assert.Contains(commandLine, a => a.EndsWith("orchestrator-all-in-one.dll", StringComparison.Ordinal));
        Assert.Contains(commandLine, a => a == "--");
        Assert.Equal("True", (await cluster.Kubectl("get", "node", ClusterFixture.NodeName,
            "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")).Output.Trim());
        // the one log tells the two apart
        var log = await File.ReadAllTextAsync(Path.Combine(cluster.StateDir, "logs", "all-in-one.log"));
        Assert.Contains("[master] ", log);
        Assert.Contains("[node] ", log);
    }

    [Fact, Step(2)]
    public async Task A_pod_answers_through_a_NodePort_service()
    {
        Assert.Equal(0, (await cluster.Kubectl("create", "deployment", Name, "--image=orchestrator/http-server:latest")).ExitCode);
        var expose = await cluster.Kubectl("expose", "deployment", Name, "--type=NodePort", "--port=80");
        Assert.True(expose.ExitCode == 0, expose.ToString());
        var port = (await cluster.Kubectl("get", "svc", Name, "-o", "jsonpath={.spec.ports[0].nodePort}")).Output.Trim();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await cluster.Eventually(async () => Assert.StartsWith(Name, await DemoPage.ServedHost(http, $"http://127.0.0.1:{port}/")),
            "the pod answers through the NodePort");
    }

    [Fact, Step(3)]
    public async Task Each_metrics_endpoint_shows_only_its_own_families()
    {
        var master = await MasterMetrics();
        Assert.Contains("# TYPE apiserver_request_total counter", master);
        Assert.Contains("# TYPE process_cpu_seconds_total counter", master);
        Assert.DoesNotContain("kubelet_", master);
        Assert.DoesNotContain("orchestrator_proxy_", master);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var node = await http.GetStringAsync("http://127.0.0.1:10348/metrics"); // the fixture's ORCH_HEALTHZ_PORT
        Assert.Matches("(?m)^kubelet_pod_start_duration_seconds_count [1-9]", node);
        Assert.Matches($"orchestrator_proxy_requests_total\\{{service=\"[^\"]*{Name}[^\"]*\",kind=\"http\"\\}} [1-9]", node);
        Assert.Contains("# TYPE process_cpu_seconds_total counter", node);
        Assert.DoesNotContain("apiserver_", node);
        Assert.DoesNotContain("workqueue_", node);
    }

    [Fact, Step(4)]
    public async Task Down_stops_the_one_process_and_removes_both_pid_files()
    {
        await cluster.Kubectl("delete", "service", Name, "--ignore-not-found");
        await cluster.Kubectl("delete", "deployment", Name, "--ignore-not-found");
        var pid = (await File.ReadAllTextAsync(PidFile("master"))).Trim();
        var down = await cluster.Script("down.sh");
        output.WriteLine(down.ToString());
        Assert.True(down.ExitCode == 0, down.ToString());
        Assert.Contains($"stopped the master and the node (pid {pid})", down.Output);
        Assert.False(Runs(pid), $"pid {pid} still runs");
        Assert.False(File.Exists(PidFile("master")));
        Assert.False(File.Exists(PidFile("node")));
        // a clean stop: the node left, then the master stopped, and the process ended without an error line
        var log = await File.ReadAllTextAsync(Path.Combine(cluster.StateDir, "logs", "all-in-one.log"));
        Assert.DoesNotContain("orchestrator-all-in-one:", log);
        Assert.Empty(await ClusterFixture.PodNamesOnNode());
    }

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

    private async Task<string> MasterMetrics()
    {
        var master = Path.Combine(cluster.StateDir, "master");
        var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(master, "ca.crt"));
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, chain, _) =>
            {
                if (certificate is null || chain is null) return false;
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate);
            },
        };
        using var api = new HttpClient(handler) { BaseAddress = new Uri("https://127.0.0.1:16443"), Timeout = TimeSpan.FromSeconds(30) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(Path.Combine(master, "token")).Trim());
        return await api.GetStringAsync("/metrics");
    }
}
