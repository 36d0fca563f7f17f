using k8s.Models;
using Orchestrator.Node.Agent.Probes;

namespace Orchestrator.Node.Tests.Agent.Probes;

public sealed class ContainerProbesTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static V1Probe Exec(int period = 1, int failure = 3, int success = 1, int delay = 0) => new()
    {
        Exec = new V1ExecAction { Command = ["true"] },
        PeriodSeconds = period, FailureThreshold = failure, SuccessThreshold = success, InitialDelaySeconds = delay,
    };

    [Fact]
    public void Readiness_starts_failed_and_passes_after_successThreshold()
    {
        var probes = new ContainerProbes(new V1Container { Name = "app", ReadinessProbe = Exec(success: 2) }, T0);
        Assert.False(probes.Ready);
        Assert.Single(probes.Due(T0));
        probes.Record(ProbeKind.Readiness, ProbeResult.Ok(), T0);
        Assert.False(probes.Ready);
        Assert.Empty(probes.Due(T0)); // the period has not passed
        Assert.Single(probes.Due(T0.AddSeconds(1)));
        probes.Record(ProbeKind.Readiness, ProbeResult.Ok(), T0.AddSeconds(1));
        Assert.True(probes.Ready);
    }

    [Fact]
    public void Liveness_kills_only_after_failureThreshold_consecutive_failures()
    {
        var probes = new ContainerProbes(new V1Container { Name = "app", LivenessProbe = Exec(failure: 3) }, T0);
        Assert.True(probes.Ready);
        Assert.False(probes.Record(ProbeKind.Liveness, ProbeResult.Failed("x"), T0));
        Assert.False(probes.Record(ProbeKind.Liveness, ProbeResult.Failed("x"), T0));
        Assert.False(probes.Record(ProbeKind.Liveness, ProbeResult.Ok(), T0)); // a success resets the count
        Assert.False(probes.Record(ProbeKind.Liveness, ProbeResult.Failed("x"), T0));
        Assert.False(probes.Record(ProbeKind.Liveness, ProbeResult.Failed("x"), T0));
        Assert.True(probes.Record(ProbeKind.Liveness, ProbeResult.Failed("x"), T0));
    }

    [Fact]
    public void Readiness_failures_never_kill()
    {
        var probes = new ContainerProbes(new V1Container { Name = "app", ReadinessProbe = Exec(failure: 1) }, T0);
        Assert.False(probes.Record(ProbeKind.Readiness, ProbeResult.Failed("x"), T0));
        Assert.False(probes.Ready);
    }

    [Fact]
    public void The_startup_probe_gates_liveness_and_readiness()
    {
        var probes = new ContainerProbes(new V1Container
        {
            Name = "app", StartupProbe = Exec(), LivenessProbe = Exec(), ReadinessProbe = Exec(),
        }, T0);
        Assert.Equal([ProbeKind.Startup], probes.Due(T0).Select(d => d.Kind));
        Assert.False(probes.Started);
        probes.Record(ProbeKind.Startup, ProbeResult.Ok(), T0);
        Assert.True(probes.Started);
        Assert.Equal([ProbeKind.Liveness, ProbeKind.Readiness], probes.Due(T0.AddSeconds(1)).Select(d => d.Kind));
        Assert.DoesNotContain(probes.Due(T0.AddSeconds(5)), d => d.Kind == ProbeKind.Startup);
    }

    [Fact]
    public void InitialDelaySeconds_postpones_the_first_probe()
    {
        var probes = new ContainerProbes(new V1Container { Name = "app", LivenessProbe = Exec(delay: 5) }, T0);
        Assert.Empty(probes.Due(T0.AddSeconds(4)));
        Assert.Single(probes.Due(T0.AddSeconds(5)));
    }
}
