using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// The proxy's Prometheus metrics, per service and kind (http requests, tcp connections): totals, errors (5xx or no
/// backend) and a latency histogram. Written in the Prometheus text format at the node's <c>/metrics</c>.
/// </summary>
internal sealed class ProxyMetrics
{
    private static readonly double[] Buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private readonly ConcurrentDictionary<(string Service, string Kind), Series> _series = new();

    public void Record(string service, string kind, bool error, TimeSpan latency)
    {
        var series = _series.GetOrAdd((service, kind), _ => new Series());
        var seconds = latency.TotalSeconds;
        lock (series)
        {
            series.Count++;
            if (error) series.Errors++;
            series.Sum += seconds;
            for (var i = 0; i < Buckets.Length; i++)
                if (seconds <= Buckets[i]) series.BucketCounts[i]++;
        }
    }

    public string Render()
    {
        var sb = new StringBuilder();
        var snapshot = _series.OrderBy(kv => kv.Key.Service, StringComparer.Ordinal).ThenBy(kv => kv.Key.Kind).ToList();
        sb.Append("# HELP orchestrator_proxy_requests_total Requests (http) and connections (tcp) proxied per service.\n");
        sb.Append("# TYPE orchestrator_proxy_requests_total counter\n");
        foreach (var (key, s) in snapshot) lock (s) sb.Append($"orchestrator_proxy_requests_total{Labels(key)} {s.Count}\n");
        sb.Append("# HELP orchestrator_proxy_errors_total Requests answered 5xx or connections without a reachable backend.\n");
        sb.Append("# TYPE orchestrator_proxy_errors_total counter\n");
        foreach (var (key, s) in snapshot) lock (s) sb.Append($"orchestrator_proxy_errors_total{Labels(key)} {s.Errors}\n");
        sb.Append("# HELP orchestrator_proxy_duration_seconds Request (http) or connection (tcp) duration.\n");
        sb.Append("# TYPE orchestrator_proxy_duration_seconds histogram\n");
        foreach (var (key, s) in snapshot)
            lock (s)
            {
                var labels = $"service=\"{key.Service}\",kind=\"{key.Kind}\"";
                for (var i = 0; i < Buckets.Length; i++)
                    sb.Append($"orchestrator_proxy_duration_seconds_bucket{{{labels},le=\"{Buckets[i].ToString(CultureInfo.InvariantCulture)}\"}} {s.BucketCounts[i]}\n");
                sb.Append($"orchestrator_proxy_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {s.Count}\n");
                sb.Append($"orchestrator_proxy_duration_seconds_sum{{{labels}}} {s.Sum.ToString("R", CultureInfo.InvariantCulture)}\n");
                sb.Append($"orchestrator_proxy_duration_seconds_count{{{labels}}} {s.Count}\n");
            }
        return sb.ToString();
    }

    private static string Labels((string Service, string Kind) key) => $"{{service=\"{key.Service}\",kind=\"{key.Kind}\"}}";

    private sealed class Series
    {
        public long Count;
        public long Errors;
        public double Sum;
        public readonly long[] BucketCounts = new long[Buckets.Length];
    }
}
