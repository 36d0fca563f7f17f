using Akka.Actor;
using k8s.Models;
using Orchestrator.Node.Agent.Probes;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent;

/// <summary>The PodSupervisor's probes: liveness kills and restarts, readiness sets the ready flag, startup gates both.</summary>
internal sealed partial class PodSupervisor
{
    // ---- probes -------------------------------------------------------------------------------------------

    /// <summary>Fresh probe state for every new container instance (a restart starts with readiness false again).</summary>
    private static void TrackProbes(V1Container spec, ContainerSlot slot, ContainerObservation running)
    {
        if (slot.ProbesFor == running.Id) return;
        slot.ProbesFor = running.Id;
        var probes = new ContainerProbes(spec, running.StartedAt ?? DateTime.UtcNow);
        slot.Probes = probes.HasProbes ? probes : null;
    }

    private void RunDueProbes()
    {
        var now = DateTime.UtcNow;
        foreach (var spec in _pod.Spec.Containers)
        {
            if (!_slots.TryGetValue(spec.Name, out var slot) || slot.Probes is null || slot.Id is null
                || slot.Current is not { Running: true }) continue;
            var target = new ProbeTarget(slot.Id, _podIp, spec, _runtime);
            var (name, id) = (spec.Name, slot.Id);
            foreach (var (kind, probe) in slot.Probes.Due(now))
                ProbeRunner.RunAsync(probe, target).PipeTo(Self, success: r => new ProbeCompleted(name, id, kind, r));
        }
    }

    private void OnProbeCompleted(ProbeCompleted done)
    {
        if (!_slots.TryGetValue(done.Container, out var slot) || slot.ProbesFor != done.ContainerId || slot.Probes is null) return;
        var kill = slot.Probes.Record(done.Kind, done.Result, DateTime.UtcNow);
        if (!done.Result.Success)
            Event(done.Container, "Warning", "Unhealthy", $"{done.Kind} probe failed: {done.Result.Message}".Trim());
        if (kill)
        {
            slot.Probes = null; // no more probes for this instance; the restart gets fresh ones
            Event(done.Container, "Normal", "Killing",
                $"Container {done.Container} failed {done.Kind.ToString().ToLowerInvariant()} probe, will be restarted");
            var spec = _pod.Spec.Containers.First(c => c.Name == done.Container);
            var probe = done.Kind == ProbeKind.Startup ? spec.StartupProbe : spec.LivenessProbe;
            var grace = TimeSpan.FromSeconds(Math.Max(0, probe?.TerminationGracePeriodSeconds ?? _pod.Spec.TerminationGracePeriodSeconds ?? 30));
            _runtime.StopContainerAsync(done.ContainerId, grace).PipeTo(Self, success: () => SyncPod.Instance);
        }
        ReportStatus();
    }

}
