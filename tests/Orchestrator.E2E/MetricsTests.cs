using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// /metrics of a real cluster after a pod started and answered through a Service: the master's (behind the API's
/// token) has the API, store, watch, work queue and scheduler families; the node's (on its status port) has pod
/// starts, Docker operations and the proxy's requests; neither shows the other's, also with both in one process
/// (up.sh's default), where each has its own registry.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class MetricsTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly string Name = $"metrics-{Guid.NewGuid().ToString("N")[..6]}";
    private const string MasterUrl = "https://127.0.0.1:16443";
    private const string NodeMetricsUrl = "http://127.0.0.1:10348/metrics"; // the fixture's ORCH_HEALTHZ_PORT

    [Fact, Step(1)]
    public async Task A_pod_starts_and_answers_through_a_service_while_a_watch_runs()
    {
        using var api = Api();
        // a watch the master serves while the pod starts (it ends by itself)
        var watch = api.GetAsync($"/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=5&labelSelector=app%3D{Name}");
        Assert.Equal(0, (await cluster.Kubectl("create", "deployment", Name, "--image=orchestrator/http-server:latest")).ExitCode);
        var expose = await cluster.Kubectl("expose", "deployment", Name, "--type=NodePort", "--port=80");
        Assert.True(expose.ExitCode == 0, expose.ToString());
        var port = (await cluster.Kubectl("get", "svc", Name, "-o", "jsonpath={.spec.ports[0].nodePort}")).Output.Trim();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await cluster.Eventually(async () => Assert.StartsWith(Name, await DemoPage.ServedHost(http, $"http://127.0.0.1:{port}/")),
            "the pod answers through the NodePort");
        using var watched = await watch;
        Assert.Equal(HttpStatusCode.OK, watched.StatusCode);
    }

    [Fact, Step(2)]
    public async Task The_masters_metrics_need_the_token_and_have_the_api_store_watch_queue_and_scheduler_families()
    {
        using var anonymous = Api(token: false);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);

        using var api = Api();
        var text = await api.GetStringAsync("/metrics");
        output.WriteLine(string.Join('\n', text.Split('\n').Where(l => l.StartsWith("# TYPE"))));
        foreach (var family in new[]
                 {
                     "apiserver_request_total counter", "apiserver_request_duration_seconds histogram", "apiserver_registered_watchers gauge",
                     "orchestrator_store_write_duration_seconds histogram", "workqueue_depth gauge", "workqueue_adds_total counter",
                     "scheduler_scheduling_attempt_duration_seconds histogram", "process_cpu_seconds_total counter",
                 })
            Assert.Contains("# TYPE " + family, text);
        Assert.Contains("apiserver_request_total{verb=\"WATCH\",group=\"\",version=\"v1\",resource=\"pods\",subresource=\"\",code=\"200\"}", text);
        Assert.Matches("apiserver_request_total\\{verb=\"POST\",group=\"apps\",version=\"v1\",resource=\"deployments\",subresource=\"\",code=\"201\"\\} [1-9]", text);
        Assert.Matches("scheduler_scheduling_attempt_duration_seconds_count\\{result=\"scheduled\"\\} [1-9]", text);
        Assert.Contains("workqueue_adds_total{name=\"deployment-controller\"}", text);
        Assert.Matches("(?m)^orchestrator_store_write_duration_seconds_count [1-9]", text);
        // only its own: the node's families are the node's, also when both run in one process (up.sh's default)
        Assert.DoesNotContain("kubelet_", text);
        Assert.DoesNotContain("orchestrator_proxy_", text);
    }

    [Fact, Step(3)]
    public async Task The_nodes_metrics_have_pod_starts_docker_operations_and_the_proxys_requests()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(NodeMetricsUrl);
        output.WriteLine(string.Join('\n', text.Split('\n').Where(l => l.StartsWith("# TYPE"))));
        foreach (var family in new[]
                 {
                     "kubelet_pod_start_duration_seconds histogram", "kubelet_runtime_operations_duration_seconds histogram",
                     "orchestrator_proxy_requests_total counter", "orchestrator_proxy_duration_seconds histogram", "process_cpu_seconds_total counter",
                 })
            Assert.Contains("# TYPE " + family, text);
        Assert.Matches("(?m)^kubelet_pod_start_duration_seconds_count [1-9]", text);
        Assert.Matches("kubelet_runtime_operations_duration_seconds_count\\{operation_type=\"run_podsandbox\"\\} [1-9]", text);
        Assert.Matches("kubelet_runtime_operations_duration_seconds_count\\{operation_type=\"start_container\"\\} [1-9]", text);
        // the service's port has no appProtocol: forwarded at L4, counted per connection
        Assert.Matches($"orchestrator_proxy_requests_total\\{{service=\"[^\"]*{Name}[^\"]*\",kind=\"tcp\"\\}} [1-9]", text);
        // only its own (its registry, not the process's default one the master's families are in)
        Assert.DoesNotContain("apiserver_", text);
        Assert.DoesNotContain("workqueue_", text);
    }

    [Fact, Step(4)]
    public async Task Cleanup()
    {
        await cluster.Kubectl("delete", "service", Name, "--ignore-not-found");
        await cluster.Kubectl("delete", "deployment", Name, "--ignore-not-found");
        await cluster.Eventually(async () => Assert.DoesNotContain(await ClusterFixture.PodNamesOnNode(), n => n.StartsWith(Name)),
            "the pod's containers removed");
    }

    /// <summary>The API with the cluster's CA (and its bearer token unless <paramref name="token"/> is false).</summary>
    private HttpClient Api(bool token = true)
    {
        var master = Path.Combine(cluster.StateDir, "master");
        var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(master, "ca.crt"));
        var handler = new HttpClientHandler
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
        var client = new HttpClient(handler) { BaseAddress = new Uri(MasterUrl), Timeout = TimeSpan.FromSeconds(30) };
        if (token) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(Path.Combine(master, "token")).Trim());
        return client;
    }
}
