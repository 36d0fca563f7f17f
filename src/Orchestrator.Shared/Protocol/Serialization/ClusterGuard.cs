using System.Net;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport;
using Google.Protobuf;

namespace Orchestrator.Shared.Protocol.Serialization;

/// <summary>
/// A transport adapter under Akka's protocol layer that reads every inbound PDU before Akka does: it learns each
/// association's origin from its handshake (refusing an origin whose host is not the TCP peer's address, so a member
/// cannot claim another member's address), and drops each message envelope that <see cref="ClusterGuardPolicy"/>
/// refuses, so nothing it refuses is ever deserialized or delivered. The scheme stays "akka.ssl.tcp", so a guarded
/// system talks to an unguarded one unchanged. Both roles add <see cref="MasterHocon"/> or <see cref="NodeHocon"/>.
/// </summary>
public sealed class ClusterGuard : ITransportAdapterProvider
{
    public const string Name = "orchestrator-guard";

    /// <summary>The master's guard: node protocol messages to the NodeGateway only. Untrusted mode as well: Akka's own
    /// drop of remote deployment, PoisonPill and selections outside the listed paths.</summary>
    public const string MasterHocon = $$"""
        akka.remote {
          adapters { {{Name}} = "Orchestrator.Shared.Protocol.Serialization.ClusterGuard,Orchestrator.Shared" } # no space: Akka reads the value back quoted if it has one
          dot-netty.tcp.applied-adapters = [{{Name}}]
          untrusted-mode = on
          trusted-selection-paths = ["/user/{{NodeProtocolNames.GatewayActorName}}", "/system/cluster/core/daemon",
            "/system/cluster/heartbeatReceiver", "/system/remote-watcher"]
        }
        orchestrator.cluster-guard.role = master
        """;

    /// <summary>The guard of a master among several (<paramref name="peers"/>: every master's host:port, this one's too):
    /// as <see cref="MasterHocon"/>, and the control plane singleton's hand-over messages between the masters' managers and
    /// the store's change stream (a replica selects the leader's store), from the peers only.</summary>
    public static string MultiMasterHocon(IReadOnlyList<string> peers) => $$"""
        akka.remote {
          adapters { {{Name}} = "Orchestrator.Shared.Protocol.Serialization.ClusterGuard,Orchestrator.Shared" } # no space: Akka reads the value back quoted if it has one
          dot-netty.tcp.applied-adapters = [{{Name}}]
          untrusted-mode = on
          trusted-selection-paths = ["/user/{{NodeProtocolNames.GatewayActorName}}", "/user/{{NodeProtocolNames.ControlPlaneActorName}}",
            "{{ClusterGuardPolicy.StorePath}}", "/system/cluster/core/daemon", "/system/cluster/heartbeatReceiver", "/system/remote-watcher"]
        }
        orchestrator.cluster-guard { role = master, peers = "{{string.Join(",", peers)}}" }
        """;

    /// <summary>A node's guard: node protocol messages to its NodeAgent only, and only from the master at
    /// <paramref name="masterHostAndPort"/> (its cluster address, as the seed node is named; several masters: comma-separated).</summary>
    public static string NodeHocon(string masterHostAndPort) => $$"""
        akka.remote {
          adapters { {{Name}} = "Orchestrator.Shared.Protocol.Serialization.ClusterGuard,Orchestrator.Shared" } # no space: Akka reads the value back quoted if it has one
          dot-netty.tcp.applied-adapters = [{{Name}}]
        }
        orchestrator.cluster-guard { role = node, master = "{{masterHostAndPort}}" }
        """;

    public Transport Create(Transport wrappedTransport, ExtendedActorSystem system)
    {
        var config = system.Settings.Config;
        var policy = config.GetString("orchestrator.cluster-guard.role", "") switch
        {
            "master" => ClusterGuardPolicy.ForMaster(config.GetString("orchestrator.cluster-guard.peers", "")),
            "node" => ClusterGuardPolicy.ForNode(config.GetString("orchestrator.cluster-guard.master", "")),
            var other => throw new ConfigurationException($"orchestrator.cluster-guard.role must be master or node, not '{other}'"),
        };
        return new GuardedTransport(wrappedTransport, system, policy);
    }

    private sealed class GuardedTransport : Transport
    {
        private readonly Transport _inner;
        private readonly ClusterGuardPolicy _policy;
        private readonly ILoggingAdapter _log;

        public GuardedTransport(Transport inner, ExtendedActorSystem system, ClusterGuardPolicy policy)
        {
            _inner = inner;
            _policy = policy;
            System = system;
            Config = inner.Config;
            _log = Logging.GetLogger(system, typeof(ClusterGuard));
        }

        public override string SchemeIdentifier => _inner.SchemeIdentifier;
        public override long MaximumPayloadBytes => _inner.MaximumPayloadBytes;
        public override bool IsResponsibleFor(Address remote) => _inner.IsResponsibleFor(remote);
        public override Task<bool> Shutdown() => _inner.Shutdown();
        public override Task<bool> ManagementCommand(object message) => _inner.ManagementCommand(message);

        public override async Task<(Address, TaskCompletionSource<IAssociationEventListener>)> Listen()
        {
            var (address, innerListener) = await _inner.Listen();
            var upstream = new TaskCompletionSource<IAssociationEventListener>();
            _ = upstream.Task.ContinueWith(t => innerListener.TrySetResult(new AssociationRelay(t.Result, this)),
                TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion);
            return (address, upstream);
        }

        // an association this system opens: the peer is the system it dialed
        public override async Task<AssociationHandle> Associate(Address remoteAddress) =>
            Guard(await _inner.Associate(remoteAddress), $"{remoteAddress.System}@{remoteAddress.Host}:{remoteAddress.Port}");

        public AssociationHandle Guard(AssociationHandle handle, string? origin = null) => new GuardedHandle(handle, _policy, _log, origin);

        private sealed class AssociationRelay(IAssociationEventListener upstream, GuardedTransport transport) : IAssociationEventListener
        {
            public void Notify(IAssociationEvent ev) =>
                upstream.Notify(ev is InboundAssociation inbound ? new InboundAssociation(transport.Guard(inbound.Association)) : ev);
        }
    }

    private sealed class GuardedHandle : AssociationHandle
    {
        private readonly AssociationHandle _inner;

        public GuardedHandle(AssociationHandle inner, ClusterGuardPolicy policy, ILoggingAdapter log, string? origin)
            : base(inner.LocalAddress, inner.RemoteAddress)
        {
            _inner = inner;
            ReadHandlerSource.Task.ContinueWith(t => inner.ReadHandlerSource.TrySetResult(new Filter(t.Result, this, policy, log, origin)),
                TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion);
        }

        public override bool Write(ByteString payload) => _inner.Write(payload);
        [Obsolete("Akka calls this through Disassociate(reason, log), which logs the reason")]
        public override void Disassociate()
        {
#pragma warning disable CS0618 // the wrapped handle has only this to override
            _inner.Disassociate();
#pragma warning restore CS0618
        }

        /// <summary>Sees each inbound event of one association, in order, on the transport's thread.</summary>
        private sealed class Filter(IHandleEventListener upstream, GuardedHandle handle, ClusterGuardPolicy policy, ILoggingAdapter log,
            string? dialed) : IHandleEventListener
        {
            private string? _origin = dialed;

            public void Notify(IHandleEvent ev)
            {
                if (ev is not InboundPayload inbound || Admit(inbound.Payload)) upstream.Notify(ev);
            }

            private bool Admit(ByteString bytes)
            {
                try
                {
                    var pdu = RemoteWire.ReadPdu(bytes);
                    if (pdu.HandshakeOrigin is { } origin) return Handshake(origin);
                    if (pdu.Payload is null) return true; // heartbeat, disassociate
                    if (_origin is null) return Refuse("a message before the handshake");
                    var envelope = RemoteWire.ReadEnvelope(pdu.Payload);
                    return envelope is null || policy.Refusal(_origin, envelope) is not { } why
                        || Refuse($"a message to {envelope.Recipient} ({why})");
                }
                catch (InvalidProtocolBufferException e)
                {
                    return Refuse($"a malformed PDU ({e.Message})");
                }
            }

            private bool Handshake(string origin)
            {
                if (_origin is not null && !string.Equals(_origin, origin, StringComparison.OrdinalIgnoreCase))
                    return Refuse($"a second handshake as {origin} after {_origin}");
                if (!SameHost(HostOf(origin), handle.RemoteAddress.Host))
                {
                    handle._inner.Disassociate("cluster guard: the handshake's address is not the peer's", log);
                    return Refuse($"a handshake as {origin} from {handle.RemoteAddress.Host}");
                }
                _origin = origin;
                return true;
            }

            private bool Refuse(string what)
            {
                log.Warning("cluster guard: dropped {0} from {1}", what, _origin ?? handle.RemoteAddress.ToString());
                return false;
            }
        }
    }

    private static string HostOf(string authority)
    {
        var at = authority.IndexOf('@');
        var colon = authority.LastIndexOf(':');
        return colon > at ? authority[(at + 1)..colon] : authority[(at + 1)..];
    }

    /// <summary>The handshake's host (an IP literal or a name) against the TCP peer's address. A loopback peer is on this
    /// machine, whose connections leave from 127.0.0.1 whatever address a member advertises: members that share a
    /// machine are not told apart (they share its root, too).</summary>
    public static bool SameHost(string claimed, string peer)
    {
        if (!IPAddress.TryParse(peer.Trim('[', ']'), out var peerIp)) return string.Equals(claimed, peer, StringComparison.OrdinalIgnoreCase);
        peerIp = Normal(peerIp);
        if (IPAddress.IsLoopback(peerIp)) return true;
        if (IPAddress.TryParse(claimed.Trim('[', ']'), out var claimedIp)) return Normal(claimedIp).Equals(peerIp);
        try
        {
            return Dns.GetHostAddresses(claimed).Select(Normal).Contains(peerIp);
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static IPAddress Normal(IPAddress ip) => ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;
}
