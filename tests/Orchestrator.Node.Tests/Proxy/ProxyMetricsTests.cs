using Orchestrator.Node.Proxy;

namespace Orchestrator.Node.Tests.Proxy;

public sealed class ProxyMetricsTests
{
    [Fact]
    public void Requests_are_counted_per_endpoint_beside_the_per_service_totals()
    {
        var metrics = new ProxyMetrics();
        metrics.Record("default/web:80", "http", error: false, TimeSpan.FromMilliseconds(3), "172.28.0.2:80");
        metrics.Record("default/web:80", "http", error: true, TimeSpan.FromMilliseconds(3), "172.28.0.2:80");
        metrics.Record("default/web:80", "http", error: false, TimeSpan.FromMilliseconds(3), "172.28.0.3:80");
        metrics.Record("default/web:80", "http", error: true, TimeSpan.FromMilliseconds(3)); // no backend answered

        var text = metrics.Render();

        Assert.Contains("orchestrator_proxy_requests_total{service=\"default/web:80\",kind=\"http\"} 4\n", text);
        Assert.Contains("orchestrator_proxy_endpoint_requests_total{service=\"default/web:80\",kind=\"http\",endpoint=\"172.28.0.2:80\"} 2\n", text);
        Assert.Contains("orchestrator_proxy_endpoint_requests_total{service=\"default/web:80\",kind=\"http\",endpoint=\"172.28.0.3:80\"} 1\n", text);
        Assert.Contains("orchestrator_proxy_endpoint_errors_total{service=\"default/web:80\",kind=\"http\",endpoint=\"172.28.0.2:80\"} 1\n", text);
        Assert.Contains("# TYPE orchestrator_proxy_endpoint_requests_total counter\n", text);
    }
}
