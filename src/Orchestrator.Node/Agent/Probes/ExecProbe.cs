using k8s.Models;

namespace Orchestrator.Node.Agent.Probes;

/// <summary>exec: the command runs in the container; exit code 0 is success.</summary>
internal sealed class ExecProbe : IProbeHandler
{
    public bool Handles(V1Probe probe) => probe.Exec is not null;

    public async Task<ProbeResult> RunAsync(V1Probe probe, ProbeTarget target, CancellationToken ct)
    {
        var command = probe.Exec.Command ?? [];
        if (command.Count == 0) return ProbeResult.Failed("exec probe without a command");
        var result = await target.Runtime.ExecAsync(target.ContainerId, command.ToList(), ct);
        return result.ExitCode == 0
            ? ProbeResult.Ok(result.Output)
            : ProbeResult.Failed($"command {string.Join(" ", command)} exited with {result.ExitCode}: {result.Output.Trim()}");
    }
}
