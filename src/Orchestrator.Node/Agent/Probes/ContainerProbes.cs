using k8s.Models;

namespace Orchestrator.Node.Agent.Probes;

/// <summary>
/// The probe bookkeeping of one running container (one instance per container id, dropped when it exits):
/// when each probe is due, its consecutive successes/failures, and the results Kubernetes derives from them —
/// started (startup probe passed, or none), ready (readiness probe passed, or none, once started) and whether the
/// container must be killed (liveness or startup probe reached failureThreshold). Pure bookkeeping: the
/// PodSupervisor runs the probes and acts on the verdicts. Defaults are Kubernetes': period 10 s,
/// success 1, failure 3, no initial delay; a readiness probe starts out failed, liveness out passed.
/// </summary>
internal sealed class ContainerProbes
{
    private readonly Dictionary<ProbeKind, (V1Probe Probe, ProbeState State)> _probes = new();

    public ContainerProbes(V1Container spec, DateTime startedAt)
    {
        Add(ProbeKind.Startup, spec.StartupProbe, startedAt);
        Add(ProbeKind.Liveness, spec.LivenessProbe, startedAt);
        Add(ProbeKind.Readiness, spec.ReadinessProbe, startedAt);
    }

    private void Add(ProbeKind kind, V1Probe? probe, DateTime startedAt)
    {
        if (probe is null) return;
        _probes[kind] = (probe, new ProbeState { NextDue = startedAt + TimeSpan.FromSeconds(Math.Max(0, probe.InitialDelaySeconds ?? 0)) });
    }

    public bool Started => !_probes.TryGetValue(ProbeKind.Startup, out var s) || s.State.Result == true;

    public bool Ready => Started && (!_probes.TryGetValue(ProbeKind.Readiness, out var r) || r.State.Result == true);

    public bool HasProbes => _probes.Count > 0;

    /// <summary>The probes to run now; each is marked in flight until its result is recorded.</summary>
    public IReadOnlyList<(ProbeKind Kind, V1Probe Probe)> Due(DateTime now)
    {
        var due = new List<(ProbeKind, V1Probe)>();
        foreach (var (kind, (probe, state)) in _probes)
        {
            if (state.InFlight || now < state.NextDue) continue;
            // the startup probe gates the others, and stops once it passed
            if (kind == ProbeKind.Startup ? state.Result == true : !Started) continue;
            state.InFlight = true;
            due.Add((kind, probe));
        }
        return due;
    }

    /// <summary>Records a result; true when the container must be killed (liveness/startup failureThreshold reached).</summary>
    public bool Record(ProbeKind kind, ProbeResult result, DateTime now)
    {
        if (!_probes.TryGetValue(kind, out var entry)) return false;
        var (probe, state) = entry;
        state.InFlight = false;
        state.NextDue = now + TimeSpan.FromSeconds(Math.Max(1, probe.PeriodSeconds ?? 10));
        if (result.Success)
        {
            state.Failures = 0;
            if (++state.Successes >= Math.Max(1, probe.SuccessThreshold ?? 1)) state.Result = true;
            return false;
        }
        state.Successes = 0;
        if (++state.Failures < Math.Max(1, probe.FailureThreshold ?? 3)) return false;
        state.Result = false;
        state.Failures = 0;
        return kind != ProbeKind.Readiness;
    }

    private sealed class ProbeState
    {
        public DateTime NextDue;
        public bool InFlight;
        public int Successes;
        public int Failures;
        public bool? Result;
    }
}
