using k8s.Models;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent.Probes;

/// <summary>One way of asking a container whether it is healthy (the kubelet's prober for one action kind).
/// Handlers are stateless; <see cref="ProbeRunner"/> picks one and applies the probe's timeout.</summary>
internal interface IProbeHandler
{
    bool Handles(V1Probe probe);

    Task<ProbeResult> RunAsync(V1Probe probe, ProbeTarget target, CancellationToken ct);
}

/// <summary>What a probe talks to: the container (exec) and the pod's address (httpGet, tcpSocket).</summary>
internal sealed record ProbeTarget(string ContainerId, string? PodIp, V1Container Container, IContainerRuntime Runtime);

internal sealed record ProbeResult(bool Success, string Message)
{
    public static ProbeResult Ok(string message = "") => new(true, message);
    public static ProbeResult Failed(string message) => new(false, message);
}

/// <summary>liveness, readiness, startup — Kubernetes' names, used in events ("Liveness probe failed: …").</summary>
internal enum ProbeKind { Liveness, Readiness, Startup }
