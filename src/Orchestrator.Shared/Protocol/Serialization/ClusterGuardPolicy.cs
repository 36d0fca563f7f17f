using Akka.Dispatch.SysMsg;
using Akka.Util;

namespace Orchestrator.Shared.Protocol.Serialization;

/// <summary>
/// What a peer actor system may deliver to this one, judged on the wire before Akka deserializes anything. Every member
/// holds the cluster certificate, so the certificate says nothing about which member is talking; what the guard knows is
/// the handshake's origin address (checked against the TCP peer by <see cref="ClusterGuard"/>). From that peer it admits:
/// <list type="bullet">
/// <item>the node protocol (<see cref="ProtocolSerializer"/>) to one actor only: on the master the NodeGateway (which checks
/// per node that the sender is the agent registered under that name), on a node its NodeAgent and only from the master;</item>
/// <item>with several masters, the singleton's hand-over messages and the store's change stream (replication), from the
/// other masters only;</item>
/// <item>cluster membership messages to the cluster's own actors, remote-watcher heartbeats, and the DeathWatch system
/// messages (Watch, Unwatch, DeathWatchNotification) naming the peer's own actors;</item>
/// <item>ActorSelections of the above only by plain child names from the root.</item>
/// </list>
/// Everything else is refused: any other serializer (Akka's polymorphic JSON default, primitives, bytes, remote deployment),
/// messages to any other actor (the object store, controllers, the persistence journal, /temp), PoisonPill, Kill,
/// Identify, Status replies, supervision system messages (Create, Suspend, Terminate, Failed, …), and a sender or watcher
/// path at another system's address (the envelope's sender is not authenticated by Akka: without this a member could
/// speak as another node's agent).
/// </summary>
internal sealed class ClusterGuardPolicy
{
    public const int ClusterSerializer = 5;
    public const int SelectionSerializer = 6;
    public const int MiscSerializer = 16;
    public const int SystemMessageSerializer = 22;
    public const int ProtocolSerializerId = 7301;
    /// <summary>Akka.Cluster.Tools' ClusterSingletonMessageSerializer (the managers' hand-over messages).</summary>
    public const int SingletonSerializer = 14;
    /// <summary>The store's change stream between masters (Orchestrator.Master's ReplicationSerializer).</summary>
    public const int ReplicationSerializerId = 7321;
    /// <summary>The leader's store (and its feeds, its children) and each master's replica of it.</summary>
    public const string StorePath = "/user/object-store", ReplicaPath = "/user/store-replica";

    private static readonly string WatchManifest = typeof(Watch).TypeQualifiedName();
    private static readonly string UnwatchManifest = typeof(Unwatch).TypeQualifiedName();
    private static readonly string DeathWatchManifest = typeof(DeathWatchNotification).TypeQualifiedName();

    private readonly string _protocolRecipient;
    private readonly IReadOnlyList<string>? _protocolSenders;
    private readonly IReadOnlyList<string> _peerMasters;

    private ClusterGuardPolicy(string protocolRecipient, IReadOnlyList<string>? protocolSenders, IReadOnlyList<string>? peerMasters = null)
    {
        _protocolRecipient = protocolRecipient;
        _protocolSenders = protocolSenders;
        _peerMasters = peerMasters ?? [];
    }

    /// <summary>The master: node protocol messages go to the NodeGateway only, from any member. With several masters
    /// (<paramref name="peers"/>, comma-separated host:port), the control plane singleton's hand-over messages go to its
    /// manager, from those masters only.</summary>
    public static ClusterGuardPolicy ForMaster(string peers = "") => new($"/user/{NodeProtocolNames.GatewayActorName}", null, Systems(peers));

    /// <summary>A node: node protocol messages go to its NodeAgent only, from the master at <paramref name="masterHostAndPort"/>
    /// (several masters: comma-separated; the NodeGateway runs on whichever of them holds the control plane).</summary>
    public static ClusterGuardPolicy ForNode(string masterHostAndPort) =>
        new($"/user/{NodeProtocolNames.AgentActorName}", Systems(masterHostAndPort));

    private static IReadOnlyList<string> Systems(string hostsAndPorts) =>
        [.. hostsAndPorts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(h => $"{NodeProtocolNames.ActorSystemName}@{h}")];

    /// <summary>Null when <paramref name="envelope"/> from the system at <paramref name="origin"/> ("system@host:port") may
    /// be delivered; otherwise why not.</summary>
    public string? Refusal(string origin, RemoteWire.Envelope envelope)
    {
        if (envelope.Sender is { } sender && !SameSystem(Authority(sender), origin))
            return $"its sender {sender} is not at the sending system {origin}";
        return Refusal(origin, LocalPath(envelope.Recipient), envelope.Message, selection: false);
    }

    /// <summary>A path of plain names only: "..", "." and escapes could lead an allowed prefix elsewhere.</summary>
    private static bool Plain(string path) =>
        path == "/" || path.Split('/').Skip(1).All(s => s.Length > 0 && s is not "." and not ".." && !s.Contains('%'));

    private string? Refusal(string origin, string path, RemoteWire.Payload message, bool selection)
    {
        if (!Plain(path)) return $"the recipient path {path} is not a plain path";
        switch (message.SerializerId)
        {
            case SelectionSerializer when !selection && path == "/":
                var selected = RemoteWire.ReadSelection(message.Message);
                return selected.Path is null
                    ? "an actor selection with a wildcard or parent pattern"
                    : Refusal(origin, selected.Path, selected.Message, selection: true);
            case ProtocolSerializerId when path == _protocolRecipient:
                return _protocolSenders is null || _protocolSenders.Any(s => SameSystem(origin, s)) ? null
                    : $"node protocol messages are accepted from {string.Join(", ", _protocolSenders)} only";
            case SingletonSerializer when path == $"/user/{NodeProtocolNames.ControlPlaneActorName}":
                return _peerMasters.Any(s => SameSystem(origin, s)) ? null
                    : "control plane hand-over messages are accepted from the masters (--peers) only";
            case ReplicationSerializerId when path == StorePath || path.StartsWith(StorePath + "/", StringComparison.Ordinal) || path == ReplicaPath:
                return _peerMasters.Any(s => SameSystem(origin, s)) ? null
                    : "the store's change stream is accepted from the masters (--peers) only";
            case ClusterSerializer when path.StartsWith("/system/cluster/", StringComparison.Ordinal):
                return null;
            case MiscSerializer when path == "/system/remote-watcher" && message.Manifest is "RWHB" or "RWHR":
                return null;
            case SystemMessageSerializer when !selection:
                return SystemMessageRefusal(origin, message);
        }
        return $"serializer {message.SerializerId} manifest '{message.Manifest}' is not accepted for {path}" + (selection ? " (selected)" : "");
    }

    /// <summary>DeathWatch only, and only about the peer's own actors: a member may watch our actors and tell us that one
    /// of its actors ended, never that another system's actor did.</summary>
    private static string? SystemMessageRefusal(string origin, RemoteWire.Payload message)
    {
        // WatchData { watchee = 1; watcher = 2 }, DeathWatchNotificationData { actor = 1; … }
        var (field, role) = message.Manifest == WatchManifest || message.Manifest == UnwatchManifest ? (2, "watcher")
            : message.Manifest == DeathWatchManifest ? (1, "terminated actor")
            : (0, "");
        if (field == 0) return $"system message '{message.Manifest}' is not accepted from a peer";
        var path = RemoteWire.RefField(message.Message, field) ?? "";
        return SameSystem(Authority(path), origin) ? null : $"the {role} {path} of a system message is not at the sending system {origin}";
    }

    /// <summary>"system@host:port" of a full actor path ("akka.ssl.tcp://system@host:port/user/a#1").</summary>
    public static string Authority(string actorPath)
    {
        var start = actorPath.IndexOf("://", StringComparison.Ordinal);
        if (start < 0) return "";
        start += 3;
        var end = actorPath.IndexOf('/', start);
        return end < 0 ? actorPath[start..] : actorPath[start..end];
    }

    /// <summary>The path inside its system, without the uid: "/user/node-gateway"; "/" for the root guardian.</summary>
    public static string LocalPath(string actorPath)
    {
        var start = actorPath.IndexOf("://", StringComparison.Ordinal);
        var slash = start < 0 ? actorPath.IndexOf('/') : actorPath.IndexOf('/', start + 3);
        var path = slash < 0 ? "/" : actorPath[slash..];
        var uid = path.IndexOf('#');
        if (uid >= 0) path = path[..uid];
        return path.Length > 1 ? path.TrimEnd('/') : "/";
    }

    private static bool SameSystem(string a, string b) => a.Length > 0 && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
