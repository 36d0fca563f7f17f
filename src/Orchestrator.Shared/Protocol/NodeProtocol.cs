using k8s.Models;

namespace Orchestrator.Shared.Protocol;

// The wire protocol between the master's NodeGateway (actor "node-gateway" on the member with role
// "master") and each node's NodeAgent (actor "node-agent" on a member with role "node").
// Every message is an immutable record carrying official Kubernetes models; ProtocolSerializer
// writes them as JSON through KubernetesJson so both sides agree on Kubernetes' wire format.

/// <summary>Node → master, on start and after every (re)connect. The master answers <see cref="NodeRegistered"/>
/// and then sends <see cref="DesiredPodsChanged"/>, <see cref="ServicesChanged"/> and <see cref="NetworkPoliciesChanged"/>. <paramref name="KubeletCertificateRequest"/>
/// is the node's PKCS#10 request (PEM) for the serving certificate of its kubelet endpoint (<see cref="KubeletTls"/>);
/// <paramref name="Credential"/> proves the node is <c>system:node:NAME</c> (<see cref="NodeCredentials"/>).</summary>
public sealed record RegisterNode(V1Node Node, string? KubeletCertificateRequest = null, NodeCredential? Credential = null) : INodeProtocolMessage;

/// <summary>A node's proof of its name for one registration (<see cref="NodeCredentials"/>): its client certificate (PEM;
/// null until it has one), a PKCS#10 request (PEM) for its key (for the first certificate and renewals), and a signature
/// (base64) by that key over the name, <paramref name="Agent"/> (the registering agent's actor address) and
/// <paramref name="SignedAt"/> (ISO 8601, UTC).</summary>
public sealed record NodeCredential(string? Certificate, string SigningRequest, string SignedAt, string Agent, string Signature)
{
    public override string ToString() => $"NodeCredential {{ Certificate = {(Certificate is null ? "none" : "present")}, SignedAt = {SignedAt}, Agent = {Agent} }}";
}

/// <summary>Master → node: registered. <paramref name="KubeletCertificate"/> (PEM) is the serving certificate the master
/// issued for the node's request, and <paramref name="KubeletCa"/> (PEM) the CA it and the master's client certificate
/// come from; both null when the master issued none. <paramref name="NodeCertificate"/> (PEM) is a new client certificate
/// for the node's identity (its first, or a renewal), null when the one it holds stays. <paramref name="MasterUid"/> is
/// the master's incarnation (its cluster member's uid; null outside a cluster): a master member Up at the same address
/// with another uid is a restarted master, which does not know the node until it registers again.</summary>
public sealed record NodeRegistered(string NodeName, string? KubeletCertificate = null, string? KubeletCa = null, string? NodeCertificate = null,
    long? MasterUid = null) : INodeProtocolMessage;

/// <summary>Master → node: the registration (or a report of a node not registered from that agent) is refused because
/// the sender did not prove it is <c>system:node:NAME</c>; <paramref name="Reason"/> says why. The node registers again.</summary>
public sealed record NodeRegistrationRefused(string NodeName, string Reason) : INodeProtocolMessage;

/// <summary>Node → master, every few seconds: the node's whole status (conditions with heartbeat times, capacity, addresses).</summary>
public sealed record NodeHeartbeat(string NodeName, V1NodeStatus Status) : INodeProtocolMessage;

/// <summary>Master → node: every pod bound to the node, whole, whenever the set or any pod changes and after every
/// registration. Generation grows with each send so a node can drop stale sets.</summary>
public sealed record DesiredPodsChanged(string NodeName, long Generation, IReadOnlyList<V1Pod> Pods) : INodeProtocolMessage;

/// <summary>Master → node: the ConfigMaps and Secrets the node's pods reference — those only, as the Node authorizer
/// lets a kubelet read — whole, sent before every <see cref="DesiredPodsChanged"/> (the same channel keeps the order, so a
/// node never sees a pod before its configuration) and whenever one of them changes. A referenced object that does not
/// exist is absent from the lists. Generation grows with each send, as for pods. <paramref name="Claims"/> are the
/// PersistentVolumeClaims the pods use (ephemeral volumes' included) and <paramref name="Volumes"/> the volumes those
/// claims are bound to: what the node needs to mount them (null from a master that sends none).</summary>
public sealed record PodConfigChanged(string NodeName, long Generation, IReadOnlyList<V1ConfigMap> ConfigMaps, IReadOnlyList<V1Secret> Secrets,
    IReadOnlyList<V1PersistentVolumeClaim>? Claims = null, IReadOnlyList<V1PersistentVolume>? Volumes = null)
    : INodeProtocolMessage
{
    /// <summary>Names only: Secret values never reach a log.</summary>
    public override string ToString() =>
        $"PodConfigChanged {{ NodeName = {NodeName}, Generation = {Generation}, ConfigMaps = {ConfigMaps.Count}, Secrets = {Secrets.Count}, " +
        $"Claims = {Claims?.Count ?? 0}, Volumes = {Volumes?.Count ?? 0} }}";
}

/// <summary>Master → node: the local-path volumes on this node that are being deleted (reclaim policy Delete), whole,
/// with each DesiredPodsChanged and whenever one is added. The node removes each one's directory — only under its own
/// local-path root — and answers <see cref="LocalVolumeDeleted"/>; sending a set again is harmless.</summary>
public sealed record LocalVolumesToDelete(string NodeName, long Generation, IReadOnlyList<V1PersistentVolume> Volumes) : INodeProtocolMessage;

/// <summary>Node → master: the directory of the volume is gone (<paramref name="Error"/> null), so the master lets the
/// PersistentVolume go; or why it could not be removed (the volume stays, and the master records the reason).</summary>
public sealed record LocalVolumeDeleted(string NodeName, string VolumeName, string Uid, string? Error = null) : INodeProtocolMessage;

/// <summary>Node → master: the observed status of one pod, written by the master to pods/status.</summary>
public sealed record PodStatusReported(string NodeName, string Namespace, string Name, string Uid, V1PodStatus Status)
    : INodeProtocolMessage;

/// <summary>Master → node: every Service and EndpointSlice, whole, for the node's Services view (proxy, DNS, the
/// pods' service variables) — slices only, as kube-proxy and CoreDNS read them (hand-written Endpoints reach nodes as
/// the master's mirrored slices); the Ingresses of the cluster's own class (<c>orchestrator</c>, the master decides which)
/// for the proxy's ingress routes, with the TLS Secrets those Ingresses name — those only (null from a master that
/// sends none). <paramref name="PodRanges"/>: every Node's spec.podCIDR, so a proxy that accepts a ClusterIP connection
/// for another node of its machine (they share those sockets) knows the client's node — internalTrafficPolicy Local
/// sends it to the endpoints on that node, as the client node's kube-proxy would (null from a master that sends none).
/// <paramref name="NodeZones"/>: every Node's <c>topology.kubernetes.io/zone</c> label, for the zone hints of
/// EndpointSlices, which kube-proxy follows by its node's zone (here: the client's node's, for the same reason).</summary>
public sealed record ServicesChanged(long Generation, IReadOnlyList<V1Service> Services, IReadOnlyList<V1EndpointSlice> EndpointSlices,
    IReadOnlyList<V1Ingress>? Ingresses = null, IReadOnlyList<V1Secret>? TlsSecrets = null, IReadOnlyList<NodePodRange>? PodRanges = null,
    IReadOnlyList<NodeZone>? NodeZones = null)
    : INodeProtocolMessage
{
    /// <summary>Counts only: Secret values never reach a log.</summary>
    public override string ToString() =>
        $"ServicesChanged {{ Generation = {Generation}, Services = {Services.Count}, EndpointSlices = {EndpointSlices.Count}, " +
        $"Ingresses = {Ingresses?.Count ?? 0}, TlsSecrets = {TlsSecrets?.Count ?? 0} }}";
}

/// <summary>A Node's name and its pod range (spec.podCIDR).</summary>
public sealed record NodePodRange(string Node, string PodCidr);

/// <summary>A Node's name and its zone (the <c>topology.kubernetes.io/zone</c> label).</summary>
public sealed record NodeZone(string Node, string Zone);

/// <summary>Master → node: every NetworkPolicy, whole, with what a node needs to evaluate their selectors anywhere in
/// the cluster — each namespace's labels and each pod that has an IP (labels, IP, named container ports) — whenever
/// one of them changes and after every registration. Every node gets all of it because any node's proxy may carry a
/// ClusterIP connection between any two pods and must judge it by both pods' policies; with no policy in the cluster
/// the namespaces and pods are left out, so clusters without policies pay nothing for pod churn.</summary>
public sealed record NetworkPoliciesChanged(long Generation, IReadOnlyList<V1NetworkPolicy> Policies, IReadOnlyList<PolicyNamespace> Namespaces,
    IReadOnlyList<PolicyPod> Pods) : INodeProtocolMessage
{
    public override string ToString() =>
        $"NetworkPoliciesChanged {{ Generation = {Generation}, Policies = {Policies.Count}, Namespaces = {Namespaces.Count}, Pods = {Pods.Count} }}";
}

/// <summary>A namespace as NetworkPolicy namespaceSelectors see it.</summary>
public sealed record PolicyNamespace(string Name, IReadOnlyDictionary<string, string>? Labels);

/// <summary>A pod as NetworkPolicy peers and named ports see it: where it is, its labels, its IP and its containers'
/// named ports.</summary>
public sealed record PolicyPod(string Namespace, string Name, IReadOnlyDictionary<string, string>? Labels, string Ip,
    IReadOnlyList<PolicyPodPort>? Ports);

/// <summary>A named container port (protocol TCP, UDP or SCTP).</summary>
public sealed record PolicyPodPort(string Name, int Port, string Protocol);

/// <summary>Node → master: an Event to record (image pull failures, container restarts, …).</summary>
public sealed record NodeEventReported(string NodeName, Corev1Event Event) : INodeProtocolMessage;

/// <summary>Node → master: a ServiceAccount token for a pod's serviceAccountToken projection, bound to the pod (kubelet's
/// TokenRequest). Empty <paramref name="Audiences"/>: the API's. The master answers the sending agent with
/// <see cref="ServiceAccountTokenIssued"/> of the same <paramref name="RequestId"/>, and issues one only for a pod bound to
/// that node and running as that account.</summary>
public sealed record ServiceAccountTokenRequested(string NodeName, string RequestId, string Namespace, string PodName, string PodUid,
    string ServiceAccountName, IReadOnlyList<string> Audiences, long ExpirationSeconds) : INodeProtocolMessage;

/// <summary>Master → node: the token asked for and the expiry the holder refreshes by (the TokenRequest's
/// status.expirationTimestamp), or why none was issued (<paramref name="Error"/>, kube's message).</summary>
public sealed record ServiceAccountTokenIssued(string RequestId, string? Token, DateTime? ExpirationTimestamp, string? Error = null)
    : INodeProtocolMessage
{
    /// <summary>No token: it never reaches a log.</summary>
    public override string ToString() =>
        $"ServiceAccountTokenIssued {{ RequestId = {RequestId}, Token = {(Token is null ? "none" : "(hidden)")}, ExpirationTimestamp = {ExpirationTimestamp:O}, Error = {Error} }}";
}
/// <summary>Node → master, every few seconds: what the node's pods and the node itself use (the kubelet's summary, as
/// metrics-server scrapes it). CPU is a rate over the window between two samples, memory the working set. The master
/// keeps the newest report of each node in memory for the metrics API and the HorizontalPodAutoscaler.</summary>
public sealed record NodeMetricsReported(string NodeName, NodeUsage Node, IReadOnlyList<PodUsage> Pods) : INodeProtocolMessage;

/// <summary>The node's own usage at <paramref name="Timestamp"/> over the <paramref name="WindowSeconds"/> before it.</summary>
public sealed record NodeUsage(DateTime Timestamp, double WindowSeconds, long CpuNanoCores, long MemoryWorkingSetBytes);

/// <summary>One pod's containers' usage at <paramref name="Timestamp"/> over the <paramref name="WindowSeconds"/> before it.</summary>
public sealed record PodUsage(string Namespace, string Name, string Uid, DateTime Timestamp, double WindowSeconds,
    IReadOnlyList<ContainerUsage> Containers);

public sealed record ContainerUsage(string Name, long CpuNanoCores, long MemoryWorkingSetBytes);

/// <summary>Marker for messages that cross the master–node boundary; bound to <see cref="Serialization.ProtocolSerializer"/>.</summary>
public interface INodeProtocolMessage;

public static class NodeProtocolNames
{
    public const string GatewayActorName = "node-gateway";
    public const string AgentActorName = "node-agent";
    public const string MasterRole = "master";
    public const string NodeRole = "node";
    public const string ActorSystemName = "orchestrator";
    /// <summary>The ClusterSingletonManager of the control plane on every master of a multi-master cluster.</summary>
    public const string ControlPlaneActorName = "control-plane";
}
