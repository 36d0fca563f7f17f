using Docker.DotNet;
using Docker.DotNet.Models;

namespace Orchestrator.Node.Runtime;

internal sealed partial class DockerRuntime : IContainerStats
{
    public async Task<ContainerStatsSample?> SampleAsync(string containerId, CancellationToken ct = default)
    {
        ContainerStatsResponse? response = null;
        try
        {
            // one-shot: the counters now, without Docker's one-second wait for a second sample (rates are the caller's)
            await _client.Containers.GetContainerStatsAsync(containerId, new ContainerStatsParameters { Stream = false, OneShot = true },
                new Progress(r => response = r), ct);
        }
        catch (DockerContainerNotFoundException)
        {
            return null;
        }
        return response is null ? null : SampleOf(response);
    }

    /// <summary>Docker's stats as the kubelet reads cgroups: CPU time of all cores; working set = usage less
    /// inactive_file (cgroup v2; total_inactive_file on v1), never below zero. A stopped container has no read time.</summary>
    internal static ContainerStatsSample? SampleOf(ContainerStatsResponse response)
    {
        if (response.Read == default || response.CPUStats?.CPUUsage is null) return null;
        var memory = response.MemoryStats;
        var usage = memory?.Usage ?? 0;
        ulong inactive = 0;
        if (memory?.Stats is { } stats && !stats.TryGetValue("inactive_file", out inactive)) stats.TryGetValue("total_inactive_file", out inactive);
        var workingSet = inactive < usage ? usage - inactive : 0;
        return new ContainerStatsSample(response.Read.ToUniversalTime(), response.CPUStats.CPUUsage.TotalUsage, usage, workingSet);
    }

    private sealed class Progress(Action<ContainerStatsResponse> report) : IProgress<ContainerStatsResponse>
    {
        public void Report(ContainerStatsResponse value) => report(value);
    }
}
