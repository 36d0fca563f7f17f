using System.Diagnostics;
using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Bench.Scheduling;

/// <summary>The DaemonSet and Job runs: one object, timed from its creation until the control plane reports it done
/// (every node's daemon pod Running; the Job Complete), through the same store, controllers, scheduler and
/// simulated nodes as the ReplicaSet run.</summary>
internal static class Workloads
{
    public static async Task<int> RunAsync(Args options)
    {
        Console.WriteLine($"{options.Workload} simulation: nodes {string.Join(", ", options.Nodes)}" +
                          (options.Workload == "job" ? $", {options.Pods} pods, parallelism {options.Parallelism}" : "") +
                          $", {options.Runs} run(s) each, {Environment.ProcessorCount} cores");
        foreach (var nodes in options.Nodes)
        {
            var times = new List<double>();
            for (var run = 1; run <= options.Runs; run++)
            {
                var (system, store) = await Simulation.StartAsync(nodes);
                try
                {
                    var throttledBefore = Orchestrator.Master.Diagnostics.MasterMetrics.StoreWritesThrottledTotal();
                    var versionBefore = ((ObjectsListed)await store.Ask<object>(new ListObjects("namespaces", null))).ResourceVersion;
                    var clock = Stopwatch.StartNew();
                    var timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
                    if (options.Workload == "daemonset")
                    {
                        await Create(store, "daemonsets", DaemonSet());
                        await Simulation.WaitForAsync(async () => (await Get<V1DaemonSet>(store, "daemonsets", "bench"))?.Status is { } s
                                                                  && s.NumberReady == nodes && s.DesiredNumberScheduled == nodes, timeout, "daemon pods Ready");
                    }
                    else if (options.Workload == "job")
                    {
                        await Create(store, "jobs", Job(options.Pods, options.Parallelism));
                        await Simulation.WaitForAsync(async () => (await Get<V1Job>(store, "jobs", "bench"))?.Status?.Conditions?
                            .Any(c => c.Type == "Complete" && c.Status == "True") == true, timeout, "Job Complete");
                    }
                    else throw new ArgumentException($"unknown workload {options.Workload} (replicaset, daemonset, job)");
                    times.Add(clock.Elapsed.TotalSeconds);
                    var count = options.Workload == "job" ? options.Pods : nodes;
                    var throttled = Orchestrator.Master.Diagnostics.MasterMetrics.StoreWritesThrottledTotal() - throttledBefore;
                    var events = (ObjectsListed)await store.Ask<object>(new ListObjects("events", null));
                    var failedCreates = events.Items.OfType<Corev1Event>().Where(e => e.Reason == "FailedCreate").Sum(e => e.Count ?? 1);
                    var elapsed = clock.Elapsed.TotalSeconds;
                    var writes = ((ObjectsListed)await store.Ask<object>(new ListObjects("namespaces", null))).ResourceVersion - versionBefore;
                    Console.WriteLine($"  {nodes,5} nodes run {run}: {count} pods done in {elapsed,6:F2} s ({count / elapsed:F0} pods/s); " +
                                      $"store 429s {throttled:F0}, FailedCreate events {failedCreates}, objects written {writes} ({writes / elapsed:F0}/s)");
                }
                catch (TimeoutException e)
                {
                    var ds = await Get<V1DaemonSet>(store, "daemonsets", "bench");
                    var job = await Get<V1Job>(store, "jobs", "bench");
                    var progress = ds?.Status is { } d ? $"DaemonSet desired {d.DesiredNumberScheduled}, current {d.CurrentNumberScheduled}, ready {d.NumberReady}"
                        : job?.Status is { } j ? $"Job succeeded {j.Succeeded ?? 0}, active {j.Active ?? 0}" : "no status";
                    Console.WriteLine($"  {nodes,5} nodes run {run}: {e.Message} ({progress}); store 429s in the process {Orchestrator.Master.Diagnostics.MasterMetrics.StoreWritesThrottledTotal():F0}");
                    throw;
                }
                finally
                {
                    await system.Terminate();
                }
            }
            var median = times.Order().ElementAt(times.Count / 2);
            Console.WriteLine($"{nodes,5} nodes median: {options.Workload} done after {median:F2} s");
        }
        return 0;
    }

    private static async Task Create(IActorRef store, string resource, IKubernetesObject<V1ObjectMeta> obj)
    {
        if (await store.Ask<object>(new CreateObject(resource, obj)) is StoreFailed f) throw new InvalidOperationException(f.Error.Message);
    }

    private static async Task<T?> Get<T>(IActorRef store, string resource, string name) where T : class =>
        await store.Ask<object>(new GetObject(new ResourceKey(resource, "default", name))) is ObjectStored stored ? stored.Object as T : null;

    private static V1PodTemplateSpec Template(string restartPolicy) => new()
    {
        Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "bench" } },
        Spec = new V1PodSpec { RestartPolicy = restartPolicy, Containers = [new V1Container { Name = "app", Image = "app:1" }] },
    };

    private static V1DaemonSet DaemonSet() => new()
    {
        ApiVersion = "apps/v1", Kind = "DaemonSet",
        Metadata = new V1ObjectMeta { Name = "bench", NamespaceProperty = "default" },
        Spec = new V1DaemonSetSpec
        {
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "bench" } },
            Template = Template("Always"),
        },
    };

    private static V1Job Job(int completions, int parallelism) => new()
    {
        ApiVersion = "batch/v1", Kind = "Job",
        Metadata = new V1ObjectMeta { Name = "bench", NamespaceProperty = "default" },
        Spec = new V1JobSpec { Completions = completions, Parallelism = parallelism, BackoffLimit = 0, Template = Template("Never") },
    };
}
