using System.Diagnostics;
using Prometheus;

namespace Orchestrator.Master.Diagnostics;

/// <summary>
/// The master's Prometheus metrics, served at <c>/metrics</c> behind the API's authentication. Names follow
/// kube-apiserver, kube-scheduler and client-go's work queues where they measure the same thing, so dashboards made
/// for Kubernetes read them. The sites call these one-liners; this folder imports nothing else of the master.
/// </summary>
internal static class MasterMetrics
{
    // first: the default registry may only be configured before anything uses it
    private static readonly bool Configured = DefaultMetrics.Configure();

    private static readonly double[] RequestBuckets = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 10, 30, 60];

    private static readonly Counter Requests = Metrics.CreateCounter("apiserver_request_total",
        "API requests by verb, group, version, resource, subresource and HTTP response code.",
        new CounterConfiguration { LabelNames = ["verb", "group", "version", "resource", "subresource", "code"] });

    private static readonly Histogram RequestDuration = Metrics.CreateHistogram("apiserver_request_duration_seconds",
        "API response latency by verb, group, version, resource and subresource (WATCH and CONNECT excluded: they last as long as the client stays).",
        new HistogramConfiguration { LabelNames = ["verb", "group", "version", "resource", "subresource"], Buckets = RequestBuckets });

    private static readonly Gauge Watchers = Metrics.CreateGauge("apiserver_registered_watchers",
        "Watches being served now, by resource.", new GaugeConfiguration { LabelNames = ["resource"] });

    private static readonly Histogram StoreWrites = Metrics.CreateHistogram("orchestrator_store_write_duration_seconds",
        "From a planned write to its records being durable in the journal (group commit included), per write.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });

    private static readonly Histogram StoreBatches = Metrics.CreateHistogram("orchestrator_store_journal_write_records",
        "Records per journal write (one transaction, one fsync): how many were committed together.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 12) });

    private static readonly Gauge QueueDepth = Metrics.CreateGauge("workqueue_depth",
        "Keys waiting for reconciliation in each controller's work queue.", new GaugeConfiguration { LabelNames = ["name"] });

    private static readonly Counter QueueAdds = Metrics.CreateCounter("workqueue_adds_total",
        "Keys added to each controller's work queue.", new CounterConfiguration { LabelNames = ["name"] });

    private static readonly Histogram SchedulingAttempts = Metrics.CreateHistogram("scheduler_scheduling_attempt_duration_seconds",
        "Time the scheduling algorithm took for one pod (filter and score), by result: scheduled or unschedulable.",
        new HistogramConfiguration { LabelNames = ["result"], Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16) });

    private static readonly Counter NodeMessagesDropped = Metrics.CreateCounter("orchestrator_node_gateway_dropped_messages_total",
        "Node messages the node gateway dropped while syncing (over its bound), by kind; the nodes send their state again.",
        new CounterConfiguration { LabelNames = ["kind"] });

    private static readonly Counter StoreWritesThrottled = Metrics.CreateCounter("orchestrator_store_throttled_writes_total",
        "Writes the store answered 429 TooManyRequests because its bounded write queue was full.");

    public static void StoreWriteThrottled() => StoreWritesThrottled.Inc();

    /// <summary>The store's 429s so far in this process (the scheduling bench reports them).</summary>
    public static double StoreWritesThrottledTotal() => StoreWritesThrottled.Value;

    public static void NodeMessageDropped(string kind) => NodeMessagesDropped.WithLabels(kind).Inc();

    public static void ApiRequest(string verb, string group, string version, string resource, string subresource, int code, TimeSpan elapsed)
    {
        var series = RequestSeriesChildren.GetOrAdd(new RequestSeries(verb, group, version, resource, subresource, code), static s => (
            Requests.WithLabels(s.Verb, s.Group, s.Version, s.Resource, s.Subresource, s.Code.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            s.Verb is "WATCH" or "CONNECT" ? null : RequestDuration.WithLabels(s.Verb, s.Group, s.Version, s.Resource, s.Subresource)));
        series.Count.Inc();
        series.Duration?.Observe(elapsed.TotalSeconds);
    }

    /// <summary>The request series' children, found by their labels without the label arrays, the code's text and the
    /// collector's own lookup that WithLabels costs on every request. As many entries as series (never removed, as the
    /// series are not).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<RequestSeries, (Counter.Child Count, Histogram.Child? Duration)>
        RequestSeriesChildren = new();

    private readonly record struct RequestSeries(string Verb, string Group, string Version, string Resource, string Subresource, int Code);

    /// <summary>Counts a watch until the returned handle is disposed.</summary>
    public static IDisposable Watch(string resource)
    {
        var gauge = Watchers.WithLabels(resource);
        gauge.Inc();
        return new Release(() => gauge.Dec());
    }

    public static long StoreWriteStarted() => Stopwatch.GetTimestamp();

    public static void StoreJournalWrite(int records) => StoreBatches.Observe(records);

    /// <summary>Journal writes and their records so far in this process (the API bench reports them).</summary>
    public static (long Writes, double Records) StoreJournalWrites() => (StoreBatches.Count, StoreBatches.Sum);

    public static void StoreWriteDurable(long started) => StoreWrites.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);

    public static void Enqueued(string controller, int depth)
    {
        QueueAdds.WithLabels(controller).Inc();
        QueueDepth.WithLabels(controller).Set(depth);
    }

    public static void Drained(string controller, int left) => QueueDepth.WithLabels(controller).Set(left);

    public static long SchedulingStarted() => Stopwatch.GetTimestamp();

    public static void SchedulingAttempt(bool scheduled, long started) =>
        SchedulingAttempts.WithLabels(scheduled ? "scheduled" : "unschedulable").Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);

    /// <summary>Scheduling attempts so far in this process, by result, and the seconds they took (the scheduling bench
    /// reports them over a run).</summary>
    public static (double Scheduled, double Unschedulable, double Seconds) SchedulingAttemptsSoFar()
    {
        var (scheduled, unschedulable) = (SchedulingAttempts.WithLabels("scheduled"), SchedulingAttempts.WithLabels("unschedulable"));
        return (scheduled.Count, unschedulable.Count, scheduled.Sum + unschedulable.Sum);
    }

    /// <summary>Serves the registry at /metrics; the caller places it behind authentication.</summary>
    public static IEndpointConventionBuilder MapMasterMetrics(this IEndpointRouteBuilder endpoints)
    {
        _ = Configured;
        return endpoints.MapMetrics("/metrics");
    }

    private sealed class Release(Action release) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) release();
        }
    }
}

/// <summary>prometheus-net's own collectors: the process's (CPU, memory, threads, open files) stay; .NET event
/// counters and meters (hundreds of series) and the library's debug metrics are left out.</summary>
internal static class DefaultMetrics
{
    public static bool Configure()
    {
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions
        {
            SuppressProcessMetrics = false,
            SuppressDebugMetrics = true,
            SuppressEventCounters = true,
            SuppressMeters = true,
        });
        return true;
    }
}
