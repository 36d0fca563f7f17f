using Orchestrator.Node.Diagnostics;
using Prometheus;

namespace Orchestrator.Node.Tests.Proxy;

public sealed class ProxyMetricsTests
{
    [Fact]
    public async Task Requests_are_counted_per_endpoint_beside_the_per_service_totals()
    {
        const string service = "metrics-test/web:80"; // the registry is the process's: a service no other test uses
        NodeMetrics.ProxyRequest(service, "http", error: false, TimeSpan.FromMilliseconds(3), "172.28.0.2:80");
        NodeMetrics.ProxyRequest(service, "http", error: true, TimeSpan.FromMilliseconds(3), "172.28.0.2:80");
        NodeMetrics.ProxyRequest(service, "http", error: false, TimeSpan.FromMilliseconds(3), "172.28.0.3:80");
        NodeMetrics.ProxyRequest(service, "http", error: true, TimeSpan.FromMilliseconds(3)); // no backend answered

        using var stream = new MemoryStream();
        await Orchestrator.Node.Diagnostics.NodeMetrics.Registry.CollectAndExportAsTextAsync(stream);
        var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());

        Assert.Contains("orchestrator_proxy_requests_total{service=\"metrics-test/web:80\",kind=\"http\"} 4\n", text);
        Assert.Contains("orchestrator_proxy_endpoint_requests_total{service=\"metrics-test/web:80\",kind=\"http\",endpoint=\"172.28.0.2:80\"} 2\n", text);
        Assert.Contains("orchestrator_proxy_endpoint_requests_total{service=\"metrics-test/web:80\",kind=\"http\",endpoint=\"172.28.0.3:80\"} 1\n", text);
        Assert.Contains("orchestrator_proxy_endpoint_errors_total{service=\"metrics-test/web:80\",kind=\"http\",endpoint=\"172.28.0.2:80\"} 1\n", text);
        Assert.Contains("# TYPE orchestrator_proxy_endpoint_requests_total counter\n", text);
    }

    [Fact]
    public async Task An_l4_connection_is_counted_when_it_opens_and_timed_when_it_ends()
    {
        const string service = "metrics-test/db:5432";
        NodeMetrics.ProxyConnectionOpened(service, "172.28.0.4:5432");

        var open = await Text();
        Assert.Contains("orchestrator_proxy_requests_total{service=\"metrics-test/db:5432\",kind=\"tcp\"} 1\n", open);
        Assert.Contains("orchestrator_proxy_endpoint_requests_total{service=\"metrics-test/db:5432\",kind=\"tcp\",endpoint=\"172.28.0.4:5432\"} 1\n", open);
        Assert.DoesNotContain("orchestrator_proxy_duration_seconds_count{service=\"metrics-test/db:5432\",kind=\"tcp\"}", open);

        NodeMetrics.ProxyConnectionEnded(service, TimeSpan.FromSeconds(30));
        var ended = await Text();
        Assert.Contains("orchestrator_proxy_duration_seconds_count{service=\"metrics-test/db:5432\",kind=\"tcp\"} 1\n", ended);
        Assert.Contains("orchestrator_proxy_requests_total{service=\"metrics-test/db:5432\",kind=\"tcp\"} 1\n", ended);
    }

    private static async Task<string> Text()
    {
        using var stream = new MemoryStream();
        await NodeMetrics.Registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
