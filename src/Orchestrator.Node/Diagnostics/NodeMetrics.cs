using System.Diagnostics;
using Prometheus;

namespace Orchestrator.Node.Diagnostics;

/// <summary>
/// The node's Prometheus metrics, served at <c>/metrics</c> on the status endpoint (127.0.0.1:--healthz-port): pod
/// starts and container runtime (Docker) calls under the kubelet's names, and the service proxy's requests. The
/// sites call these one-liners; this folder imports nothing else of the node.
/// </summary>
internal static class NodeMetrics
{
    /// <summary>The node's own registry, not prometheus-net's process-wide default one: in orchestrator-all-in-one the
    /// master serves the default registry, and each /metrics shows only its own families (as with two processes).</summary>
    internal static CollectorRegistry Registry { get; } = NewRegistry();

    private static readonly IMetricFactory Metrics = Prometheus.Metrics.WithCustomRegistry(Registry);

    private static readonly double[] ProxyBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly Histogram PodStarts = Metrics.CreateHistogram("kubelet_pod_start_duration_seconds",
        "From the node first seeing a pod to all its containers running (Running phase reported), per pod start.",
        new HistogramConfiguration { Buckets = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 600] });

    private static readonly Histogram RuntimeOperations = Metrics.CreateHistogram("kubelet_runtime_operations_duration_seconds",
        "Latency of container runtime (Docker) operations, by operation.",
        new HistogramConfiguration { LabelNames = ["operation_type"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 15) });

    private static readonly Counter RuntimeErrors = Metrics.CreateCounter("kubelet_runtime_operations_errors_total",
        "Container runtime (Docker) operations that failed, by operation.", new CounterConfiguration { LabelNames = ["operation_type"] });

    private static readonly Counter RuntimeTimeouts = Metrics.CreateCounter("orchestrator_runtime_operations_timeouts_total",
        "Container runtime (Docker) operations that did not answer within their deadline, by operation.",
        new CounterConfiguration { LabelNames = ["operation_type"] });

    private static readonly Counter RuntimeRefusals = Metrics.CreateCounter("orchestrator_runtime_operations_refused_total",
        "Container runtime (Docker) operations refused at once because too many were waiting, by operation.",
        new CounterConfiguration { LabelNames = ["operation_type"] });

    private static readonly Counter ProxyRequests = Metrics.CreateCounter("orchestrator_proxy_requests_total",
        "Requests (http) and connections (tcp) proxied per service.", new CounterConfiguration { LabelNames = ["service", "kind"] });

    private static readonly Counter ProxyErrors = Metrics.CreateCounter("orchestrator_proxy_errors_total",
        "Requests answered 5xx or connections without a reachable backend.", new CounterConfiguration { LabelNames = ["service", "kind"] });

    private static readonly Histogram ProxyDuration = Metrics.CreateHistogram("orchestrator_proxy_duration_seconds",
        "Request (http) or connection (tcp) duration.", new HistogramConfiguration { LabelNames = ["service", "kind"], Buckets = ProxyBuckets });

    // endpoints come and go with pods: a series not used for ten minutes is forgotten
    private static readonly ICollector<ICounter> EndpointRequests = Metrics.WithManagedLifetime(TimeSpan.FromMinutes(10))
        .CreateCounter("orchestrator_proxy_endpoint_requests_total",
            "Requests (http) and connections (tcp) proxied per service and endpoint (pod address).", ["service", "kind", "endpoint"])
        .WithExtendLifetimeOnUse();

    private static readonly ICollector<ICounter> EndpointErrors = Metrics.WithManagedLifetime(TimeSpan.FromMinutes(10))
        .CreateCounter("orchestrator_proxy_endpoint_errors_total",
            "Requests answered 5xx or connections that failed, per service and endpoint.", ["service", "kind", "endpoint"])
        .WithExtendLifetimeOnUse();

    public static void PodStarted(TimeSpan sinceFirstSeen) => PodStarts.Observe(Math.Max(0, sinceFirstSeen.TotalSeconds));

    /// <summary>Times one runtime operation: <c>await NodeMetrics.RuntimeOperation("start_container", () => …)</c>.</summary>
    public static Task<T> RuntimeOperation<T>(string operation, Func<Task<T>> call) =>
        RuntimeOperation(operation, call, Stopwatch.GetTimestamp());

    /// <summary>Times the rest of an operation that began at <paramref name="started"/> (a <see cref="Stopwatch"/>
    /// timestamp), counting a failure of this part as the operation's.</summary>
    public static async Task<T> RuntimeOperation<T>(string operation, Func<Task<T>> call, long started)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            RuntimeErrors.WithLabels(operation).Inc();
            throw;
        }
        finally
        {
            RuntimeOperations.WithLabels(operation).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    public static async Task RuntimeOperation(string operation, Func<Task> call) =>
        await RuntimeOperation(operation, async () => { await call(); return true; });

    /// <summary>The first part of an operation failed: counted, and timed from <paramref name="started"/>.</summary>
    public static void RuntimeOperationFailed(string operation, long started)
    {
        RuntimeErrors.WithLabels(operation).Inc();
        RuntimeOperations.WithLabels(operation).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    public static void RuntimeTimedOut(string operation) => RuntimeTimeouts.WithLabels(operation).Inc();

    public static void RuntimeRefused(string operation) => RuntimeRefusals.WithLabels(operation).Inc();

    /// <summary>One proxied HTTP request, or an L4 connection that found no backend (<paramref name="error"/>); <paramref name="endpoint"/>
    /// is the pod address that took it, when known.</summary>
    public static void ProxyRequest(string service, string kind, bool error, TimeSpan elapsed, string? endpoint = null)
    {
        ProxyRequests.WithLabels(service, kind).Inc();
        if (error) ProxyErrors.WithLabels(service, kind).Inc();
        ProxyDuration.WithLabels(service, kind).Observe(elapsed.TotalSeconds);
        if (endpoint is null) return;
        EndpointRequests.WithLabels(service, kind, endpoint).Inc();
        if (error) EndpointErrors.WithLabels(service, kind, endpoint).Inc();
    }

    /// <summary>An L4 connection whose backend (<paramref name="endpoint"/>) accepted it: counted when it opens, so a
    /// long-lived connection shows at once; its duration is observed when it ends (<see cref="ProxyConnectionEnded"/>).
    /// One that found no backend is a failed <see cref="ProxyRequest"/>.</summary>
    public static void ProxyConnectionOpened(string service, string? endpoint)
    {
        ProxyRequests.WithLabels(service, "tcp").Inc();
        if (endpoint is not null) EndpointRequests.WithLabels(service, "tcp", endpoint).Inc();
    }

    public static void ProxyConnectionEnded(string service, TimeSpan elapsed) =>
        ProxyDuration.WithLabels(service, "tcp").Observe(elapsed.TotalSeconds);

    /// <summary>Writes every metric in the Prometheus text format.</summary>
    public static async Task WriteAsync(HttpContext context)
    {
        context.Response.ContentType = PrometheusConstants.ExporterContentTypeValue.ToString();
        await Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
    }

    /// <summary>With prometheus-net's process collector (CPU, memory, threads, open files: what the default registry
    /// serves once its .NET event counters, meters and debug metrics are suppressed), and nothing else of its defaults.</summary>
    private static CollectorRegistry NewRegistry()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        DotNetStats.Register(registry);
        return registry;
    }
}
