using System.Net;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>/metrics: Prometheus text behind the API's authentication, like kube-apiserver's.</summary>
public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Metrics_need_the_token()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new("Bearer", "wrong") } };
        using var refused = await _server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Api_requests_are_counted_by_verb_resource_and_code()
    {
        var name = "metrics-" + Guid.NewGuid().ToString("N")[..8];
        await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps",
            $$$"""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "{{{name}}}"}}""");
        await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/configmaps");
        await _server.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/default/configmaps/{name}-missing");

        using var response = await _server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("apiserver_request_total{verb=\"POST\",group=\"\",version=\"v1\",resource=\"configmaps\",subresource=\"\",code=\"201\"}", text);
        Assert.Contains("apiserver_request_total{verb=\"LIST\",group=\"\",version=\"v1\",resource=\"configmaps\",subresource=\"\",code=\"200\"}", text);
        Assert.Contains("apiserver_request_total{verb=\"GET\",group=\"\",version=\"v1\",resource=\"configmaps\",subresource=\"\",code=\"404\"}", text);
        Assert.Contains("apiserver_request_duration_seconds_bucket{verb=\"LIST\",group=\"\",version=\"v1\",resource=\"configmaps\"", text);
        Assert.Contains("orchestrator_store_write_duration_seconds_count", text);
    }
}
