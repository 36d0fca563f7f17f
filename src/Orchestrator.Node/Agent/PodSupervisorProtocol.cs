using k8s.Models;
using Orchestrator.Node.Agent.Probes;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent;

/// <summary>NodeAgent → PodSupervisor: a newer copy of the desired pod (same uid).</summary>
internal sealed record PodUpdated(V1Pod Pod);

/// <summary>NodeAgent → PodSupervisor: the pod is no longer desired (or is being deleted): stop and remove its
/// containers, then stop. With <paramref name="ReportFinalStatus"/>, the terminated status is reported first.</summary>
internal sealed record StopPod(bool ReportFinalStatus);

/// <summary>NodeAgent → PodSupervisor: the master may have missed reports (it (re)registered us): report again.</summary>
internal sealed record ResendPodStatus
{
    public static readonly ResendPodStatus Instance = new();
}

/// <summary>NodeAgent → PodSupervisor: the container runtime does not answer. Like the kubelet, which skips pod
/// synchronization while its runtime is down, the supervisor makes no runtime call and keeps the status it last reported
/// (its probes still run: a readiness probe that fails takes the pod out of its Services) until <see cref="RuntimeAvailable"/>.</summary>
internal sealed record RuntimeUnavailable
{
    public static readonly RuntimeUnavailable Instance = new();
}

/// <summary>NodeAgent → PodSupervisor: the container runtime answers again: sync now (a sandbox that died with the runtime
/// is re-created, and the containers started again per restartPolicy).</summary>
internal sealed record RuntimeAvailable
{
    public static readonly RuntimeAvailable Instance = new();
}

/// <summary>PodSupervisor → NodeAgent: a sync failed with a new error. The agent asks the runtime whether it is up at once,
/// rather than at its next heartbeat, so a runtime that went away pauses every pod's syncs within one call.</summary>
internal sealed record PodSyncFailed(string Uid, string Error);

/// <summary>Timer tick: compare the pod's containers with the spec and converge.</summary>
internal sealed record SyncPod
{
    public static readonly SyncPod Instance = new();
}

/// <summary>Timer tick: run the probes that are due.</summary>
internal sealed record ProbeTick
{
    public static readonly ProbeTick Instance = new();
}

/// <summary>A probe of one container instance finished (results for an instance that is gone are ignored).</summary>
internal sealed record ProbeCompleted(string Container, string ContainerId, ProbeKind Kind, ProbeResult Result);

/// <summary>What a pod's containers and volumes are made from besides its spec: the node's ConfigMaps and Secrets, its
/// Services view (service variables) and its allocatable resources (resourceFieldRef without a limit).</summary>
internal sealed record PodSources(Config.ConfigDirectory Configs, Services.ServiceDirectory? Services,
    IReadOnlyDictionary<string, ResourceQuantity>? Allocatable)
{
    public static PodSources None { get; } = new(new Config.ConfigDirectory(), null, null);

    /// <summary>The node's shared image puller; null: the supervisor has one of its own (tests).</summary>
    public ImagePuller? Images { get; init; }

    /// <summary>The node's ServiceAccount token manager; null: projections of tokens fail (tests without a master).</summary>
    public PodTokens? Tokens { get; init; }
}

internal sealed record PodSupervisorSettings(
    string NodeName,
    string HostAddress,
    TimeSpan SyncInterval,
    TimeSpan InitialBackOff,
    TimeSpan MaxBackOff)
{
    /// <summary>How often due probes are looked for; each probe keeps its own periodSeconds.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Serial or parallel pulls and a registry mirror (node flags).</summary>
    public ImagePullSettings ImagePulls { get; init; } = ImagePullSettings.Default;

    /// <summary>Where this node's local-path volumes live (<c>--root-dir</c>/volumes; null: the node makes none).</summary>
    public string? LocalPathRoot { get; init; }

    /// <summary>The kubelet's numbers: back-off 10 s doubling to 5 min. Grace periods are the pod's, uncapped.</summary>
    public static PodSupervisorSettings Default(string nodeName, string hostAddress) =>
        new(nodeName, hostAddress, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5));
}
