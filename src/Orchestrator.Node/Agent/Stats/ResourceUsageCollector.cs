using Orchestrator.Node.Host;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent.Stats;

/// <summary>
/// The kubelet's stats provider: every <see cref="ResourceUsageSampling.Interval"/> it samples the counters of each running container of
/// the node's pods (through <see cref="IContainerStats"/>) and of the machine (/proc), and publishes the round, with
/// rates over the window since the one before, into <see cref="NodeResourceUsage"/>. It reads; it never changes a
/// container. Runs beside the actor system, so a node's rejoining does not reset its rates.
/// </summary>
internal sealed class ResourceUsageCollector(IContainerRuntime runtime, IContainerStats stats, NodeResourceUsage usage,
    ResourceUsageSampling sampling, ILogger<ResourceUsageCollector> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(sampling.Interval);
        string? failing = null; // said once, not every round (a Docker that is down for minutes)
        do
        {
            try
            {
                await CollectAsync(stopping);
                if (failing is not null) log.LogInformation("Collecting resource usage works again");
                failing = null;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                if (failing != e.Message) log.LogWarning("Collecting resource usage failed: {Message}", e.Message);
                failing = e.Message;
            }
        } while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false));
    }

    private async Task CollectAsync(CancellationToken ct)
    {
        var running = (await runtime.ListContainersAsync(null, ct)).Where(c => c.Running && !c.IsSandbox).ToList();
        var samples = await Task.WhenAll(running.Select(async c =>
        {
            try
            {
                return await stats.SampleAsync(c.Id, ct) is { } sample
                    ? new ContainerCounters(c.Id, c.PodNamespace, c.PodName, c.PodUid, c.ContainerName, c.CreatedAt, sample)
                    : null;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                log.LogDebug("No stats for container {Id}: {Message}", c.Id, e.Message);
                return null;
            }
        }));
        var now = DateTime.UtcNow;
        var machine = MachineUsage.CpuUsageNanoSeconds() is { } cpu && MachineUsage.MemoryWorkingSetBytes() is { } memory
            ? new MachineCounters(now, cpu, memory)
            : null;
        var previous = usage.Current;
        usage.Publish(UsageSnapshot.Next(previous, previous.NodeName, machine, samples.OfType<ContainerCounters>().ToList()));
    }
}

/// <summary>How often the counters are sampled (--housekeeping-interval): by default 10 s, the kubelet's housekeeping
/// (metrics-server's default resolution is 15 s).</summary>
internal sealed record ResourceUsageSampling(TimeSpan Interval);
