using k8s.Models;

namespace Orchestrator.Node.Agent;

/// <summary>NodeAgent → PodSupervisor: a newer copy of the desired pod (same uid).</summary>
public sealed record PodUpdated(V1Pod Pod);

/// <summary>NodeAgent → PodSupervisor: the pod is no longer desired (or is being deleted): stop and remove its
/// containers, then stop. With <paramref name="ReportFinalStatus"/>, the terminated status is reported first.</summary>
public sealed record StopPod(bool ReportFinalStatus);

/// <summary>NodeAgent → PodSupervisor: the master may have missed reports (it (re)registered us): report again.</summary>
public sealed record ResendPodStatus
{
    public static readonly ResendPodStatus Instance = new();
}

/// <summary>Timer tick: compare the pod's containers with the spec and converge.</summary>
internal sealed record SyncPod
{
    public static readonly SyncPod Instance = new();
}

public sealed record PodSupervisorSettings(
    string NodeName,
    string HostAddress,
    TimeSpan SyncInterval,
    TimeSpan InitialBackOff,
    TimeSpan MaxBackOff,
    TimeSpan MaxGracePeriod)
{
    /// <summary>The kubelet's numbers: back-off 10 s doubling to 5 min; our grace period is capped at 30 s for now.</summary>
    public static PodSupervisorSettings Default(string nodeName, string hostAddress) =>
        new(nodeName, hostAddress, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(30));
}
