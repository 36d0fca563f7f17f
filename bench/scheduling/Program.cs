using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using k8s.Models;
using Orchestrator.Bench.Scheduling;
using Orchestrator.Master;
using Orchestrator.Master.Registry;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Persistence;

// Scheduling simulation: the real ObjectStore (in-memory journal), the real control plane (ReplicaSet controller,
// scheduler, NodeGateway, …) and simulated nodes behind the node protocol that report pods Running at once.
// For each node count: create ReplicaSets totalling --pods replicas, measure pods bound per second and the time
// until every pod is Running; medians of --runs runs, and the growth from the smallest to the largest node count.
//   dotnet run -c Release --project bench/scheduling -- [--nodes 100,1000] [--pods 10000] [--replica-sets 10] [--runs 3]
// --workload pods writes the pods straight to the store (runs of one owner's pods, or --interleaved); --progress 5
// prints a line of progress every 5 s; --alloc-profile the types each run allocates (sampled; a profiled run is slower).
// Two more workloads: a DaemonSet over every node (time until each node runs its pod), and a Job of --pods short pods
// (the simulated nodes report them Succeeded at once) with --parallelism, timed until the Job is Complete.
//   dotnet run -c Release --project bench/scheduling -- --workload daemonset --nodes 1000 --runs 1
//   dotnet run -c Release --project bench/scheduling -- --workload job --nodes 100 --pods 10000 --parallelism 500 --runs 1
var options = Args.Parse(args);
using var allocationProfile = options.AllocationProfile ? new AllocationProfile() : null;
Simulation.Profile = allocationProfile;
if (options.Workload is not ("replicaset" or "pods")) return await Workloads.RunAsync(options);
var direct = options.Workload == "pods";
Console.WriteLine($"scheduling simulation: {options.Pods} pods in {options.ReplicaSets} " +
                  (direct ? "groups written straight to the store (owned by ConfigMaps, which no controller manages; " +
                            (options.Interleaved ? "pod i in group i mod groups)" : "runs of up to 500 of one group's pods, groups in turn)") : "ReplicaSets") +
                  $", nodes {string.Join(", ", options.Nodes)}, " +
                  $"{options.Runs} run(s) each, {Environment.ProcessorCount} cores");

var medians = new List<(int Nodes, double BindRate, double Running)>();
foreach (var nodes in options.Nodes)
{
    var runs = new List<(double BindRate, double Bound, double Running, Spread Spread, TimeSpan Cpu, long AllocatedUntilBound, long AllocatedUntilRunning, RunCosts Costs)>();
    for (var run = 1; run <= options.Runs; run++)
    {
        var r = await Simulation.RunAsync(nodes, options.Pods, options.ReplicaSets, TimeSpan.FromSeconds(options.TimeoutSeconds), direct,
            options.ProgressSeconds, options.Interleaved);
        runs.Add(r);
        Console.WriteLine($"  {nodes,5} nodes run {run}: all bound in {r.Bound,6:F2} s ({r.BindRate,7:F0} pods/s; goal ≥ 4000), all Running in {r.Running,6:F2} s; " +
                          $"process CPU until all bound {r.Cpu.TotalSeconds:F2} s ({r.Cpu.TotalMicroseconds / options.Pods:F0} µs per pod)");
        Console.WriteLine($"  {nodes,5} nodes run {run}: allocated until all bound {r.AllocatedUntilBound / 1e6:F0} MB ({r.AllocatedUntilBound / options.Pods:F0} B per pod), " +
                          $"until all Running {r.AllocatedUntilRunning / 1e6:F0} MB ({r.AllocatedUntilRunning / options.Pods:F0} B per pod)");
        Console.WriteLine($"  {nodes,5} nodes run {run}: spread of each owner's pods over the nodes: {r.Spread}");
        Console.WriteLine($"  {nodes,5} nodes run {run}: until all bound {r.Costs}");
    }
    var median = (nodes, Median(runs.Select(r => r.BindRate)), Median(runs.Select(r => r.Running)));
    medians.Add(median);
    Console.WriteLine($"{nodes,5} nodes median: {median.Item2:F0} pods bound/s, all {options.Pods} Running after {median.Item3:F2} s");
}
if (medians.Count > 1)
{
    var (first, last) = (medians[0], medians[^1]);
    Console.WriteLine($"growth {first.Nodes} → {last.Nodes} nodes ({(double)last.Nodes / first.Nodes:F0}x): bind rate x{last.BindRate / first.BindRate:F2}, " +
                      $"time to all Running x{last.Running / first.Running:F2}");
}
return 0;

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

/// <param name="ProgressSeconds">Every so many seconds of a run (0: never), a line of its progress: pods seen, bound and
/// Running, scheduling attempts, the process' CPU, GC pauses and memory — whether the rate falls as pods accumulate,
/// and whether the time goes to CPU or to waiting.</param>
/// <param name="Interleaved">--workload pods: pod i belongs to owner i mod --replica-sets, instead of runs of one owner's
/// pods (<see cref="Simulation.CreationOrder"/>).</param>
internal sealed record Args(IReadOnlyList<int> Nodes, int Pods, int ReplicaSets, int Runs, int TimeoutSeconds, string Workload = "replicaset",
    int Parallelism = 500, int ProgressSeconds = 0, bool Interleaved = false, bool AllocationProfile = false)
{
    public static Args Parse(string[] args)
    {
        string? Get(string name) => args.SkipWhile(a => a != "--" + name).Skip(1).FirstOrDefault();
        return new Args(
            (Get("nodes") ?? "100,1000").Split(',').Select(int.Parse).ToList(),
            int.Parse(Get("pods") ?? "10000"),
            int.Parse(Get("replica-sets") ?? "10"),
            int.Parse(Get("runs") ?? "3"),
            int.Parse(Get("timeout") ?? "120"),
            Get("workload") ?? "replicaset",
            int.Parse(Get("parallelism") ?? "500"),
            int.Parse(Get("progress") ?? "0"),
            args.Contains("--interleaved"),
            args.Contains("--alloc-profile"));
    }
}

/// <summary>Placement quality: how evenly each owner's (ReplicaSet's) pods lie over all nodes — the fewest and most
/// pods of one owner on a node (over every node, those without any included), and the population standard deviation
/// of its count per node; the worst owner of each, and the ideal (its pods / nodes, rounded down and up).</summary>
internal sealed record Spread(int Min, int Max, double StdDev, int IdealMin, int IdealMax)
{
    public static Spread Of(IReadOnlyList<V1Pod> pods, int nodes)
    {
        var (min, max, stddev, idealMin, idealMax) = (int.MaxValue, 0, 0.0, int.MaxValue, 0);
        foreach (var owner in pods.GroupBy(p => p.Metadata.OwnerReferences?.FirstOrDefault()?.Uid ?? ""))
        {
            var perNode = owner.GroupBy(p => p.Spec.NodeName ?? "").ToDictionary(g => g.Key, g => g.Count());
            var counts = Enumerable.Range(0, nodes).Select(i => perNode.GetValueOrDefault($"node-{i:D4}")).ToList();
            var mean = counts.Average();
            min = Math.Min(min, counts.Min());
            max = Math.Max(max, counts.Max());
            stddev = Math.Max(stddev, Math.Sqrt(counts.Average(c => (c - mean) * (c - mean))));
            idealMin = Math.Min(idealMin, owner.Count() / nodes);
            idealMax = Math.Max(idealMax, (owner.Count() + nodes - 1) / nodes);
        }
        return new Spread(min, max, stddev, idealMin, idealMax);
    }

    public override string ToString() =>
        $"min {Min}, max {Max} pods of one owner per node (ideal {IdealMin}–{IdealMax}), worst stddev {StdDev:F2}";
}

/// <summary>What a run spent besides its own work, from the process' counters (every thread): the methods the JIT
/// compiled and its time (the time of the compiling threads, spent while the run's threads waited for or ran beside
/// it), and the collections of each generation and the GC's pauses — a fresh process' first-use costs against a warm
/// one's.</summary>
internal sealed record RunCosts(long JitMethods, TimeSpan JitTime, int Gen0, int Gen1, int Gen2, TimeSpan GcPause)
{
    public static RunCosts Now() => new(System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime(),
        GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());

    public static RunCosts operator -(RunCosts a, RunCosts b) =>
        new(a.JitMethods - b.JitMethods, a.JitTime - b.JitTime, a.Gen0 - b.Gen0, a.Gen1 - b.Gen1, a.Gen2 - b.Gen2, a.GcPause - b.GcPause);

    public override string ToString() =>
        $"JIT {JitMethods} methods in {JitTime.TotalSeconds:F2} s; GC {Gen0}/{Gen1}/{Gen2} collections (gen0/1/2, each counted in the lower too), " +
        $"paused {GcPause.TotalSeconds:F2} s";
}

internal static class Simulation
{
    private const string Config = """
        akka.loglevel = WARNING
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"

        """;

    /// <summary>A running control plane with <paramref name="nodes"/> simulated nodes registered; dispose to stop it.</summary>
    public static async Task<(ActorSystem System, IActorRef Store)> StartAsync(int nodes)
    {
        var system = ActorSystem.Create("bench", ConfigurationFactory.ParseString(Config + StoreRecordSerializer.Hocon));
        var catalog = RegistryHosting.BuiltInCatalog();
        var store = system.ActorOf(ObjectStore.Props(catalog), ObjectStore.ActorName);
        var gateway = ControlPlaneHosting.Start(system, store, ControlPlaneOptions.Default, catalog);
        for (var i = 0; i < nodes; i++) system.ActorOf(SimulatedNode.Props(gateway, $"node-{i:D4}"));
        await WaitForAsync(async () => ((ObjectsListed)await store.Ask<object>(new ListObjects("nodes", null))).Items.Count == nodes,
            TimeSpan.FromSeconds(120), "nodes registered");
        return (system, store);
    }

    /// <param name="direct">Pods written straight to the store in batches of 500 (as kube-scheduler's scheduler_perf
    /// creates them), owned by ConfigMaps, instead of by ReplicaSets through their controller: the scheduler's rate, not
    /// the ReplicaSet controller's.</param>
    /// <returns>Also the process' CPU time (every thread: the control plane, the simulated nodes, the JIT, the GC) from
    /// the first create until every pod was seen bound.</returns>
    /// <summary>--alloc-profile: the types allocated during each run (from the first create until all Running).</summary>
    internal static AllocationProfile? Profile;

    public static async Task<(double BindRate, double Bound, double Running, Spread Spread, TimeSpan Cpu, long AllocatedUntilBound, long AllocatedUntilRunning, RunCosts Costs)> RunAsync(int nodes, int pods, int replicaSets, TimeSpan timeout,
        bool direct = false, int progressSeconds = 0, bool interleaved = false)
    {
        using var system = ActorSystem.Create("bench", ConfigurationFactory.ParseString(Config + StoreRecordSerializer.Hocon));
        try
        {
            var catalog = RegistryHosting.BuiltInCatalog();
            var store = system.ActorOf(ObjectStore.Props(catalog), ObjectStore.ActorName);
            var gateway = ControlPlaneHosting.Start(system, store, ControlPlaneOptions.Default, catalog);
            for (var i = 0; i < nodes; i++) system.ActorOf(SimulatedNode.Props(gateway, $"node-{i:D4}"));
            await WaitForAsync(async () => ((ObjectsListed)await store.Ask<object>(new ListObjects("nodes", null))).Items.Count == nodes,
                TimeSpan.FromSeconds(120), "nodes registered");

            var counter = system.ActorOf(PodCounter.Props(store, pods));
            var started = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
            TimeSpan? cpuUntilBound = null;
            // every thread's allocations (the simulated nodes' and the bench's creates included)
            var allocatedAtStart = GC.GetTotalAllocatedBytes();
            long? allocatedUntilBound = null;
            var costsAtStart = RunCosts.Now();
            RunCosts? costsUntilBound = null;
            Profile?.Start();
            using var reporter = progressSeconds > 0 ? ProgressReporter.Start(counter, TimeSpan.FromSeconds(progressSeconds)) : null;
            if (direct) await CreatePodsAsync(store, pods, replicaSets, interleaved);
            else
                for (var i = 0; i < replicaSets; i++)
                {
                    var replicas = pods / replicaSets + (i < pods % replicaSets ? 1 : 0);
                    // the store's write queue may still be full from the nodes' registration: as a client, ask again
                    // after the Retry-After (the API server's is 1 s for a 429) instead of giving up the run
                    while (await store.Ask<object>(new CreateObject("replicasets", ReplicaSet($"rs-{i}", replicas))) is StoreFailed f)
                    {
                        if (f.Error.Code != 429) throw new InvalidOperationException(f.Error.Message);
                        await Task.Delay(f.Error.RetryAfter ?? TimeSpan.FromSeconds(1));
                    }
                }

            PodCounter.Progress progress;
            while ((progress = await counter.Ask<PodCounter.Progress>(new PodCounter.GetProgress())).AllRunningAt is null)
            {
                if (progress.AllBoundAt is not null)
                {
                    cpuUntilBound ??= Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart;
                    allocatedUntilBound ??= GC.GetTotalAllocatedBytes() - allocatedAtStart;
                    costsUntilBound ??= RunCosts.Now() - costsAtStart;
                }
                if (clock.Elapsed > timeout)
                {
                    // the placement is known once every pod is bound, even when some never report Running
                    if (progress.AllBoundAt is not null)
                        Console.WriteLine($"  {nodes,5} nodes: spread of each owner's pods over the nodes: " +
                                          Spread.Of(((ObjectsListed)await store.Ask<object>(new ListObjects("pods", null))).Items.OfType<V1Pod>().ToList(), nodes));
                    throw new TimeoutException($"{nodes} nodes: after {timeout.TotalSeconds} s only {progress.Pods} pods, {progress.Bound} bound, {progress.Running} Running" +
                                               (progress.AllBoundAt is { } at ? $" (all bound after {(at - started).TotalSeconds:F2} s, {pods / (at - started).TotalSeconds:F0} pods/s)" : ""));
                }
                await Task.Delay(50);
            }
            var allocatedUntilRunning = GC.GetTotalAllocatedBytes() - allocatedAtStart;
            Profile?.Report(allocatedUntilRunning, pods);
            var bound = (progress.AllBoundAt!.Value - started).TotalSeconds;
            var running = (progress.AllRunningAt!.Value - started).TotalSeconds;
            var listed = (ObjectsListed)await store.Ask<object>(new ListObjects("pods", null));
            cpuUntilBound ??= Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart; // all bound and Running in one poll
            allocatedUntilBound ??= allocatedUntilRunning;
            costsUntilBound ??= RunCosts.Now() - costsAtStart;
            return (pods / bound, bound, running, Spread.Of(listed.Items.OfType<V1Pod>().ToList(), nodes), cpuUntilBound.Value,
                allocatedUntilBound.Value, allocatedUntilRunning, costsUntilBound);
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>Prints a run's progress every period until disposed: one line of deltas since the previous.</summary>
    private sealed class ProgressReporter : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();

        public static ProgressReporter Start(IActorRef counter, TimeSpan period)
        {
            var reporter = new ProgressReporter();
            _ = reporter.RunAsync(counter, period);
            return reporter;
        }

        private async Task RunAsync(IActorRef counter, TimeSpan period)
        {
            var clock = Stopwatch.StartNew();
            var process = Process.GetCurrentProcess();
            var (lastBound, lastCpu, lastPause, lastAttempts, lastAttemptSeconds) = (0, process.TotalProcessorTime, GC.GetTotalPauseDuration(), 0.0, 0.0);
            Console.WriteLine("    t s | pods seen | bound (+/s) | Running | attempts (+, ms each) | 429s | CPU s (+) | GC pause s (+), gen2 | RSS MB");
            try
            {
                while (true)
                {
                    await Task.Delay(period, _stop.Token);
                    var p = await counter.Ask<PodCounter.Progress>(new PodCounter.GetProgress());
                    process.Refresh();
                    var (cpu, pause) = (process.TotalProcessorTime, GC.GetTotalPauseDuration());
                    var (scheduled, unschedulable, seconds) = Orchestrator.Master.Diagnostics.MasterMetrics.SchedulingAttemptsSoFar();
                    var attempts = scheduled + unschedulable;
                    Console.WriteLine($"    {clock.Elapsed.TotalSeconds,5:F0} | {p.Pods,9} | {p.Bound,7} ({(p.Bound - lastBound) / period.TotalSeconds,5:F0}) | {p.Running,7} | " +
                                      $"{attempts,8:F0} (+{attempts - lastAttempts:F0}, {(attempts > lastAttempts ? (seconds - lastAttemptSeconds) * 1000 / (attempts - lastAttempts) : 0):F2}) | " +
                                      $"{Orchestrator.Master.Diagnostics.MasterMetrics.StoreWritesThrottledTotal():F0} | " +
                                      $"{cpu.TotalSeconds,6:F1} (+{(cpu - lastCpu).TotalSeconds:F1}) | {pause.TotalSeconds:F1} (+{(pause - lastPause).TotalSeconds:F2}), " +
                                      $"{GC.CollectionCount(2)} | {process.WorkingSet64 >> 20}");
                    (lastBound, lastCpu, lastPause, lastAttempts, lastAttemptSeconds) = (p.Bound, cpu, pause, attempts, seconds);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        public void Dispose() => _stop.Cancel();
    }

    public static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>The pods to create, in batches of at most 500 (one store write each), as (owner, index among its pods).
    /// By default each batch is a run of one owner's pods and the owners take turns, as pods come from workload
    /// controllers — the ReplicaSet controller creates at most 500 (burstReplicas) of one ReplicaSet's pods per sync —
    /// and as kube-scheduler's scheduler_perf creates each template's pods. <paramref name="interleaved"/>: pod i belongs
    /// to owner i mod groups (the bench's order before 2026-12-05): with 10 owners at 5,000 nodes, where a decision
    /// samples 500 nodes and the next starts 500 further on, owner g is always decided in the same 500 nodes.</summary>
    internal static IEnumerable<List<(int Owner, int Index)>> CreationOrder(int pods, int groups, bool interleaved)
    {
        if (interleaved)
        {
            for (var first = 0; first < pods; first += 500)
                yield return Enumerable.Range(first, Math.Min(500, pods - first)).Select(i => (i % groups, i)).ToList();
            yield break;
        }
        var left = Enumerable.Range(0, groups).Select(g => pods / groups + (g < pods % groups ? 1 : 0)).ToArray();
        var made = new int[groups];
        while (left.Any(n => n > 0))
            for (var g = 0; g < groups; g++)
            {
                var n = Math.Min(500, left[g]);
                if (n == 0) continue;
                yield return Enumerable.Range(made[g], n).Select(i => (g, i)).ToList();
                made[g] += n;
                left[g] -= n;
            }
    }

    private static async Task CreatePodsAsync(IActorRef store, int pods, int groups, bool interleaved)
    {
        var owners = new List<V1OwnerReference>();
        for (var g = 0; g < groups; g++)
        {
            var owner = await store.Ask<object>(new CreateObject("configmaps", new V1ConfigMap
            {
                ApiVersion = "v1", Kind = "ConfigMap", Metadata = new V1ObjectMeta { Name = $"owner-{g}", NamespaceProperty = "default" },
            }));
            if (owner is not ObjectStored { Object: var o }) throw new InvalidOperationException($"owner-{g}: {owner}");
            owners.Add(new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = o.Metadata.Name, Uid = o.Metadata.Uid, Controller = true });
        }
        var clock = Stopwatch.StartNew();
        foreach (var run in CreationOrder(pods, groups, interleaved))
        {
            // built afresh for every attempt and handed over (the store plans on them in place, without a copy), as the
            // API server hands over the pod it decoded from a request and the ReplicaSet controller the pods it builds
            List<object> Batch() => run.Select(p => (object)new CreateObject("pods", new V1Pod
            {
                ApiVersion = "v1", Kind = "Pod",
                Metadata = new V1ObjectMeta
                {
                    Name = $"g{p.Owner}-{p.Index}", NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["app"] = $"g{p.Owner}" },
                    OwnerReferences = [OwnerReference(owners[p.Owner])],
                },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "app:1" }] },
            }) { HandedOver = true }).ToList();
            while (true)
            {
                var written = await store.Ask<ObjectsWritten>(new WriteObjects(Batch()), TimeSpan.FromSeconds(60));
                var failed = written.Replies.OfType<StoreFailed>().ToList();
                if (failed.Count == 0) break;
                if (failed.Any(f => f.Error.Code != 429)) throw new InvalidOperationException(failed[0].Error.Message);
                await Task.Delay(100); // the store's queue was full: the whole batch again
            }
        }
        Console.WriteLine($"    {pods} pods created in {clock.Elapsed.TotalSeconds:F2} s");
    }

    /// <summary>A pod's own reference to its owner, its uid a string of its own, as when decoded from a request (the
    /// stored pods share nothing).</summary>
    private static V1OwnerReference OwnerReference(V1OwnerReference owner) => new()
    {
        ApiVersion = owner.ApiVersion, Kind = owner.Kind, Name = owner.Name, Uid = new string(owner.Uid.AsSpan()), Controller = true,
    };

    private static V1ReplicaSet ReplicaSet(string name, int replicas) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "ReplicaSet",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1ReplicaSetSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "app:1" }] },
            },
        },
    };
}
