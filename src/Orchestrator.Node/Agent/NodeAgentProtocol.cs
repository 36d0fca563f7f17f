using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent;

internal sealed record NodeAgentSettings(
    string NodeName,
    string Address,
    /// <summary>Where RegisterNode goes until the cluster tells us the master member's address.</summary>
    string GatewayPath,
    /// <summary>Off in unit tests: no Akka.Cluster there.</summary>
    bool UseCluster,
    TimeSpan RegisterInterval,
    TimeSpan HeartbeatInterval,
    TimeSpan OrphanSweepInterval,
    /// <summary>How often the runtime is checked (the kubelet's updateRuntimeUp, 5 s), Ready or not; one check at a time.</summary>
    TimeSpan RuntimeRetryInterval,
    /// <summary>How long the master may stay unreachable before this node leaves the cluster to rejoin a new master.</summary>
    TimeSpan MasterLostTimeout,
    PodSupervisorSettings Pods)
{
    /// <summary>Published in the Node's status.daemonEndpoints.kubeletEndpoint; the master relays logs and exec there.</summary>
    public int KubeletPort { get; init; } = 10250;

    /// <summary>This node's pod range, published as the Node's spec.podCIDR (null: none, as in unit tests).</summary>
    public string? PodCidr { get; init; }

    /// <summary>Where this node makes local-path volumes, published as the Node's local-path root annotation (null: none).</summary>
    public string? LocalPathRoot { get; init; }

    /// <summary>How long the runtime may leave its status checks unanswered before the node is NotReady ("container
    /// runtime is down"): the kubelet's maxWaitForContainerRuntime.</summary>
    public TimeSpan RuntimeDownThreshold { get; init; } = TimeSpan.FromSeconds(30);

    public static NodeAgentSettings Default(string nodeName, string address, string master) => new(
        nodeName, address,
        // several masters (comma-separated): the first until the cluster says which are up
        $"{Shared.Protocol.Serialization.ClusterTls.Address(master.Split(',')[0].Trim())}/user/{Shared.Protocol.NodeProtocolNames.GatewayActorName}",
        UseCluster: true,
        RegisterInterval: TimeSpan.FromSeconds(3),
        HeartbeatInterval: TimeSpan.FromSeconds(10),
        OrphanSweepInterval: TimeSpan.FromSeconds(30),
        RuntimeRetryInterval: TimeSpan.FromSeconds(5),
        MasterLostTimeout: TimeSpan.FromSeconds(30),
        Pods: PodSupervisorSettings.Default(nodeName, address));
}

/// <summary>How a runtime status check ended: <paramref name="Version"/> answered (with <paramref name="NetworkError"/>
/// when the pod network could not be ensured), or <paramref name="RuntimeError"/> answered instead, or
/// <paramref name="NoAnswer"/>: the engine did not answer within the call's deadline (hung, or its queue full).</summary>
internal sealed record RuntimeProbed(string? Version, string? RuntimeError = null, string? NetworkError = null, string? NoAnswer = null);

/// <summary>The orphan sweep's listing failed (the next sweep tries again).</summary>
internal sealed record SweepFailed(string Error);

/// <summary>The orphan sweep's view of the runtime: every container of the node and the pods that have volumes on it.</summary>
internal sealed record ContainersListed(IReadOnlyList<RuntimeContainer> Containers, IReadOnlyList<string>? VolumeOwners = null);

internal sealed record OrphansRemoved(int Count);

internal sealed record AgentTick(string Name)
{
    public static readonly AgentTick Register = new("register");
    public static readonly AgentTick Heartbeat = new("heartbeat");
    public static readonly AgentTick Sweep = new("sweep");
    public static readonly AgentTick ProbeRuntime = new("probe-runtime");
    public static readonly AgentTick MasterLost = new("master-lost");
    public static readonly AgentTick RenewCertificate = new("renew-certificate");
}
