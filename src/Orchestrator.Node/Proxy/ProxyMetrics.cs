using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// The proxy's Prometheus metrics, per service and kind (http requests, tcp connections): totals, errors (5xx or no
/// backend) and a latency histogram; and per endpoint (the pod address that answered) the requests it received, which
/// the dashboard's topology view draws. Written in the Prometheus text format at the node's <c>/metrics</c> (status
/// port and kubelet endpoint).
/// </summary>
public sealed class ProxyMetrics
{
    private static readonly double[] Buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    // endpoints come and go with pods: past this many series, those idle for EndpointIdle are forgotten
    private const int EndpointSeriesLimit = 4096;
    private static readonly TimeSpan EndpointIdle = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<(string Service, string Kind), Series> _series = new();
    private readonly ConcurrentDictionary<(string Service, string Kind, string Endpoint), EndpointSeries> _endpoints = new();

    public void Record(string service, string kind, bool error, TimeSpan latency, string? endpoint = null)
    {
        if (endpoint is not null) RecordEndpoint(service, kind, endpoint, error);
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

    private void RecordEndpoint(string service, string kind, string endpoint, bool error)
    {
        var now = Environment.TickCount64;
        if (!_endpoints.TryGetValue((service, kind, endpoint), out var series))
        {
            if (_endpoints.Count >= EndpointSeriesLimit)
                foreach (var (key, idle) in _endpoints)
                    if (now - Interlocked.Read(ref idle.LastTick) > EndpointIdle.TotalMilliseconds) _endpoints.TryRemove(key, out _);
            series = _endpoints.GetOrAdd((service, kind, endpoint), _ => new EndpointSeries());
        }
        Interlocked.Increment(ref series.Count);
        if (error) Interlocked.Increment(ref series.Errors);
        Interlocked.Exchange(ref series.LastTick, now);
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
        var endpoints = _endpoints.OrderBy(kv => kv.Key.Service, StringComparer.Ordinal).ThenBy(kv => kv.Key.Kind)
            .ThenBy(kv => kv.Key.Endpoint, StringComparer.Ordinal).ToList();
        sb.Append("# HELP orchestrator_proxy_endpoint_requests_total Requests (http) and connections (tcp) proxied per service and endpoint (pod address).\n");
        sb.Append("# TYPE orchestrator_proxy_endpoint_requests_total counter\n");
        foreach (var (key, s) in endpoints)
            sb.Append($"orchestrator_proxy_endpoint_requests_total{{service=\"{key.Service}\",kind=\"{key.Kind}\",endpoint=\"{key.Endpoint}\"}} {Interlocked.Read(ref s.Count)}\n");
        sb.Append("# HELP orchestrator_proxy_endpoint_errors_total Requests answered 5xx or connections that failed, per service and endpoint.\n");
        sb.Append("# TYPE orchestrator_proxy_endpoint_errors_total counter\n");
        foreach (var (key, s) in endpoints)
            sb.Append($"orchestrator_proxy_endpoint_errors_total{{service=\"{key.Service}\",kind=\"{key.Kind}\",endpoint=\"{key.Endpoint}\"}} {Interlocked.Read(ref s.Errors)}\n");
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

    private sealed class EndpointSeries
    {
        public long Count;
        public long Errors;
        public long LastTick;
    }
}
