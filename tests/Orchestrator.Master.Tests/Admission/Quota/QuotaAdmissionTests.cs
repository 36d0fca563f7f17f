using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Tests.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.Quota;

/// <summary>ResourceQuota and LimitRange admission through the API and the store: Kubernetes' 403 messages, usage charged
/// with the write (concurrent creates never pass a quota), LimitRange defaults on new pods.</summary>
public sealed class QuotaAdmissionTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _server.Client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task CreatedAsync(string path, string body)
    {
        var (status, text) = await SendAsync(HttpMethod.Post, path, body);
        Assert.True(status == HttpStatusCode.Created, text);
    }

    private static string Pod(string name, string resources = "{}", string extra = "") =>
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{" + extra +
        "\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":" + resources + "}]}}";

    private static string Quota(string name, string hard, string extra = "") =>
        "{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{" + extra + "\"hard\":{" + hard + "}}}";

    private static string Message(string body) => JsonNode.Parse(body)!["message"]!.GetValue<string>();

    private async Task<JsonNode> GetAsync(string path)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, path);
        Assert.True(status == HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!;
    }

    [Fact]
    public async Task A_pod_beyond_the_pods_quota_is_forbidden_with_kubes_message_and_usage_is_charged()
    {
        await CreatedAsync("/api/v1/namespaces/default/resourcequotas", Quota("q", "\"pods\":\"2\""));
        var quota = await GetAsync("/api/v1/namespaces/default/resourcequotas/q");
        Assert.Equal("0", quota["status"]!["used"]!["pods"]!.GetValue<string>());
        Assert.Equal("2", quota["status"]!["hard"]!["pods"]!.GetValue<string>());

        await CreatedAsync("/api/v1/namespaces/default/pods", Pod("p1"));
        await CreatedAsync("/api/v1/namespaces/default/pods", Pod("p2"));
        var (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", Pod("p3"));

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("pods \"p3\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2", Message(body));
        quota = await GetAsync("/api/v1/namespaces/default/resourcequotas/q");
        Assert.Equal("2", quota["status"]!["used"]!["pods"]!.GetValue<string>());
    }

    [Fact]
    public async Task Concurrent_creates_never_pass_the_quota()
    {
        await CreatedAsync("/api/v1/namespaces/default/resourcequotas", Quota("q", "\"count/configmaps\":\"3\""));
        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps",
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm" + i + "\"}}")));

        Assert.Equal(3, results.Count(r => r.Status == HttpStatusCode.Created));
        Assert.All(results.Where(r => r.Status != HttpStatusCode.Created), r =>
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.Status);
            Assert.Contains("exceeded quota: q, requested: count/configmaps=1, used: count/configmaps=3, limited: count/configmaps=3", Message(r.Body));
        });
    }

    [Fact]
    public async Task A_cpu_and_memory_quota_requires_every_container_to_state_them()
    {
        await CreatedAsync("/api/v1/namespaces/default/resourcequotas", Quota("compute", "\"limits.cpu\":\"2\",\"requests.memory\":\"1Gi\""));

        var (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", Pod("bare"));

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("pods \"bare\" is forbidden: failed quota: compute: must specify limits.cpu for: c; requests.memory for: c", Message(body));
        await CreatedAsync("/api/v1/namespaces/default/pods", Pod("sized", "{\"limits\":{\"cpu\":\"1500m\",\"memory\":\"512Mi\"}}"));
        var quota = await GetAsync("/api/v1/namespaces/default/resourcequotas/compute");
        Assert.Equal("1500m", quota["status"]!["used"]!["limits.cpu"]!.GetValue<string>());
        Assert.Equal("512Mi", quota["status"]!["used"]!["requests.memory"]!.GetValue<string>());
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", Pod("big", "{\"limits\":{\"cpu\":\"1\",\"memory\":\"256Mi\"}}"));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("pods \"big\" is forbidden: exceeded quota: compute, requested: limits.cpu=1, used: limits.cpu=1500m, limited: limits.cpu=2", Message(body));
    }

    [Fact]
    public async Task A_dry_run_is_judged_but_charges_nothing()
    {
        await CreatedAsync("/api/v1/namespaces/default/resourcequotas", Quota("q", "\"pods\":\"1\""));
        var (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods?dryRun=All", Pod("dry"));
        Assert.True(status == HttpStatusCode.Created, body);
        var quota = await GetAsync("/api/v1/namespaces/default/resourcequotas/q");
        Assert.Equal("0", quota["status"]!["used"]!["pods"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_scoped_quota_counts_only_the_pods_in_its_scope()
    {
        await CreatedAsync("/api/v1/namespaces/default/resourcequotas", Quota("besteffort", "\"pods\":\"1\"", "\"scopes\":[\"BestEffort\"],"));
        await CreatedAsync("/api/v1/namespaces/default/pods", Pod("be1"));
        await CreatedAsync("/api/v1/namespaces/default/pods", Pod("burstable", "{\"requests\":{\"cpu\":\"100m\"}}"));
        var (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", Pod("be2"));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1", Message(body));
    }

    [Fact]
    public async Task A_limit_range_defaults_a_new_pods_resources_and_says_so_in_an_annotation()
    {
        await CreatedAsync("/api/v1/namespaces/default/limitranges", """
            {"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"defaults"},"spec":{"limits":[{"type":"Container",
             "default":{"cpu":"500m","memory":"256Mi"},"defaultRequest":{"cpu":"100m"}}]}}
            """);

        await CreatedAsync("/api/v1/namespaces/default/pods", Pod("p", "{\"requests\":{\"memory\":\"64Mi\"}}"));

        var pod = await GetAsync("/api/v1/namespaces/default/pods/p");
        var resources = pod["spec"]!["containers"]![0]!["resources"]!;
        Assert.Equal("500m", resources["limits"]!["cpu"]!.GetValue<string>());
        Assert.Equal("256Mi", resources["limits"]!["memory"]!.GetValue<string>());
        Assert.Equal("100m", resources["requests"]!["cpu"]!.GetValue<string>());
        Assert.Equal("64Mi", resources["requests"]!["memory"]!.GetValue<string>());
        Assert.Equal("LimitRanger plugin set: cpu request for container c; cpu, memory limit for container c",
            pod["metadata"]!["annotations"]!["kubernetes.io/limit-ranger"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_container_beyond_the_limit_range_max_is_forbidden_with_kubes_message()
    {
        await CreatedAsync("/api/v1/namespaces/default/limitranges", """
            {"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"bounds"},"spec":{"limits":[{"type":"Container",
             "max":{"cpu":"1"},"min":{"cpu":"100m"}}]}}
            """);

        var (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", Pod("x", "{\"limits\":{\"cpu\":\"2\"}}"));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("pods \"x\" is forbidden: maximum cpu usage per Container is 1, but limit is 2", Message(body));

        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", Pod("y", "{\"limits\":{\"cpu\":\"50m\"}}"));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("pods \"y\" is forbidden: minimum cpu usage per Container is 100m, but request is 50m", Message(body));

        // Without resources the max becomes the default limit and request (SetDefaults_LimitRangeItem), within bounds.
        await CreatedAsync("/api/v1/namespaces/default/pods", Pod("z"));
        var pod = await GetAsync("/api/v1/namespaces/default/pods/z");
        Assert.Equal("1", pod["spec"]!["containers"]![0]!["resources"]!["limits"]!["cpu"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_claim_beyond_the_limit_range_storage_max_is_forbidden()
    {
        await CreatedAsync("/api/v1/namespaces/default/limitranges", """
            {"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"storage"},"spec":{"limits":[{"type":"PersistentVolumeClaim",
             "max":{"storage":"2Gi"},"min":{"storage":"1Gi"}}]}}
            """);

        var (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/persistentvolumeclaims", """
            {"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"big"},"spec":{"accessModes":["ReadWriteOnce"],
             "resources":{"requests":{"storage":"5Gi"}}}}
            """);

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("persistentvolumeclaims \"big\" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi", Message(body));
    }
}
