using System.Net;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using k8s.Models;
using Orchestrator.Shared.Protocol;
using Orchestrator.Shared.Protocol.Serialization;
using Xunit;
using static Orchestrator.Shared.Tests.Protocol.Serialization.ClusterTestSystems;

namespace Orchestrator.Shared.Tests.Protocol.Serialization;

/// <summary>
/// A master and a node with their cluster guards, and a compromised node: a member that holds the cluster certificate
/// and runs whatever it likes (here: no guard, Akka's defaults), over real TLS remoting on loopback. Every refusal is
/// shown by a marker the rogue sends after it on the same association: the marker arrives, so the refused message
/// would have arrived before it had it been delivered.
/// </summary>
public sealed class ClusterGuardTests : IAsyncLifetime
{
    private const string MasterHost = "127.0.0.51";
    private const string NodeHost = "127.0.0.52";
    private const string RogueHost = "127.0.0.53";
    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-guard-").FullName;
    private readonly Channel<object> _gateway = Channel.CreateUnbounded<object>();
    private readonly Channel<object> _store = Channel.CreateUnbounded<object>();
    private readonly Channel<object> _agent = Channel.CreateUnbounded<object>();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<object, string> _senders = new(ReferenceEqualityComparer.Instance);
    private ActorSystem _master = null!, _node = null!, _rogue = null!;
    private string _masterAddress = "", _nodeAddress = "";

    public async Task InitializeAsync()
    {
        var pfx = WriteCertificate(_directory, "cluster.pfx");
        var masterPort = FreePort(IPAddress.Parse(MasterHost));
        var nodePort = FreePort(IPAddress.Parse(NodeHost));
        var master = $"{MasterHost}:{masterPort}";
        _masterAddress = ClusterTls.Address(master);
        _nodeAddress = ClusterTls.Address($"{NodeHost}:{nodePort}");
        _master = Start(MasterHost, masterPort, NodeProtocolNames.MasterRole, master, ClusterTls.Load(pfx), ClusterMembership.Hocon,
            guardHocon: ClusterGuard.MasterHocon);
        _master.ActorOf(Props.Create(() => new SenderRecorder(_gateway.Writer, _senders)), NodeProtocolNames.GatewayActorName);
        _master.ActorOf(Props.Create(() => new Recorder(_store.Writer)), "object-store");
        _node = Start(NodeHost, nodePort, NodeProtocolNames.NodeRole, master, ClusterTls.Load(pfx), ClusterMembership.Hocon,
            guardHocon: ClusterGuard.NodeHocon(master));
        _node.ActorOf(Props.Create(() => new Recorder(_agent.Writer)), NodeProtocolNames.AgentActorName);
        _rogue = Start(RogueHost, 0, NodeProtocolNames.NodeRole, master, ClusterTls.Load(pfx), ClusterMembership.Hocon);
        Assert.True(await Eventually(() => Cluster.Get(_master).State.Members.Count(m => m.Status == MemberStatus.Up) == 3
                                           && Cluster.Get(_node).State.Members.Count(m => m.Status == MemberStatus.Up) == 3,
            TimeSpan.FromSeconds(30)), "the members did not join: the guard broke cluster membership");
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(new[] { _master, _node, _rogue }.Select(s => s.Terminate().WaitAsync(TimeSpan.FromSeconds(20))));
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task The_node_protocol_reaches_the_gateway_and_the_master_reaches_the_agent()
    {
        _node.ActorSelection(Gateway).Tell(Heartbeat("node-1"));
        Assert.Equal("node-1", ((NodeHeartbeat)await Next(_gateway)).NodeName);

        Ref(_master, $"{_nodeAddress}/user/{NodeProtocolNames.AgentActorName}").Tell(new NodeRegistered("node-1"), Ref(_master, Gateway));
        Assert.Equal("node-1", ((NodeRegistered)await Next(_agent)).NodeName);
    }

    [Fact]
    public async Task A_rogue_member_cannot_reach_the_object_store_by_selection_or_by_path()
    {
        var store = $"{_masterAddress}/user/object-store";
        _rogue.ActorSelection(store).Tell(Heartbeat("rogue"));
        _rogue.ActorSelection(store).Tell("write this");
        Ref(_rogue, store).Tell(Heartbeat("rogue"));

        await MarkerArrives();
        Assert.False(_store.Reader.TryRead(out var leaked), $"the store received {leaked}");
    }

    [Fact]
    public async Task Messages_of_types_outside_the_protocol_are_refused_before_deserialization()
    {
        Ref(_rogue, Gateway).Tell("a primitive");
        Ref(_rogue, Gateway).Tell(new Polymorphic("Akka's default JSON serializer, with type names"));
        Ref(_rogue, Gateway).Tell(new Identify("who"));
        Ref(_rogue, Gateway).Tell(PoisonPill.Instance);
        Ref(_rogue, Gateway).Tell(Kill.Instance);

        await MarkerArrives(); // the gateway is alive, and received only the marker
    }

    [Fact]
    public async Task A_member_cannot_speak_as_another_member()
    {
        var nodeAgent = Ref(_rogue, $"{_nodeAddress}/user/{NodeProtocolNames.AgentActorName}");
        Ref(_rogue, Gateway).Tell(Heartbeat("node-1"), nodeAgent);
        _rogue.ActorSelection(Gateway).Tell(Heartbeat("node-1"), nodeAgent);

        await MarkerArrives();
    }

    [Fact]
    public async Task A_node_takes_protocol_messages_from_the_master_only()
    {
        var agent = $"{_nodeAddress}/user/{NodeProtocolNames.AgentActorName}";
        Ref(_rogue, agent).Tell(new DesiredPodsChanged("node-1", 1, [new V1Pod { Metadata = new() { Name = "privileged" } }]));
        _rogue.ActorSelection(agent).Tell(new NodeRegistered("node-1"));
        Ref(_master, agent).Tell(new NodeRegistered("from-the-master"), Ref(_master, Gateway));

        Assert.Equal("from-the-master", ((NodeRegistered)await Next(_agent)).NodeName);
    }

    [Fact]
    public async Task DeathWatch_across_the_guard_still_works()
    {
        var watched = _node.ActorOf(Props.Create(() => new Recorder(Channel.CreateUnbounded<object>().Writer)), "watched");
        var terminated = Channel.CreateUnbounded<object>();
        _master.ActorOf(Props.Create(() => new Watcher(Ref(_master, $"{_nodeAddress}/user/watched"), terminated.Writer)));
        watched.Tell(PoisonPill.Instance);

        Assert.IsType<Terminated>(await Next(terminated));
    }

    [Theory]
    [InlineData("/user/object-store/../node-gateway")]
    [InlineData("/user/node-gateway/.")]
    [InlineData("/user/node%2Dgateway")]
    public void Recipient_paths_with_parents_or_escapes_are_refused(string path) =>
        Assert.NotNull(ClusterGuardPolicy.ForMaster().Refusal("orchestrator@10.0.0.2:4051", new RemoteWire.Envelope(
            $"akka.ssl.tcp://orchestrator@10.0.0.1:4050{path}", null,
            new RemoteWire.Payload(ClusterGuardPolicy.ProtocolSerializerId, nameof(NodeHeartbeat), Google.Protobuf.ByteString.Empty))));

    private static RemoteWire.Envelope HandOver(string to = "/user/control-plane") => new(
        $"akka.ssl.tcp://orchestrator@10.0.0.1:4050{to}", null,
        new RemoteWire.Payload(ClusterGuardPolicy.SingletonSerializer, "A", Google.Protobuf.ByteString.Empty));

    [Fact]
    public void Control_plane_hand_over_messages_are_accepted_from_peer_masters_only()
    {
        var policy = ClusterGuardPolicy.ForMaster("10.0.0.1:4050, 10.0.0.2:4050,10.0.0.3:4050");
        Assert.Null(policy.Refusal("orchestrator@10.0.0.2:4050", HandOver()));
        Assert.Contains("--peers", policy.Refusal("orchestrator@10.0.0.9:4050", HandOver()));
        Assert.NotNull(policy.Refusal("orchestrator@10.0.0.2:4050", HandOver("/user/object-store")));
        // a single master has no peers: nobody hands anything over to it
        Assert.NotNull(ClusterGuardPolicy.ForMaster().Refusal("orchestrator@10.0.0.2:4050", HandOver()));
    }

    private static RemoteWire.Envelope Replication(string to) => new(
        $"akka.ssl.tcp://orchestrator@10.0.0.1:4050{to}", null,
        new RemoteWire.Payload(ClusterGuardPolicy.ReplicationSerializerId, "ChangeReplicated", Google.Protobuf.ByteString.Empty));

    [Fact]
    public void The_stores_change_stream_is_accepted_from_peer_masters_only_and_only_for_the_store_its_feeds_and_the_replica()
    {
        var policy = ClusterGuardPolicy.ForMaster("10.0.0.1:4050,10.0.0.2:4050,10.0.0.3:4050");
        Assert.Null(policy.Refusal("orchestrator@10.0.0.2:4050", Replication("/user/store-replica")));
        Assert.Null(policy.Refusal("orchestrator@10.0.0.2:4050", Replication("/user/object-store")));
        Assert.Null(policy.Refusal("orchestrator@10.0.0.2:4050", Replication("/user/object-store/$a")));
        Assert.Contains("--peers", policy.Refusal("orchestrator@10.0.0.9:4051", Replication("/user/store-replica")));
        Assert.NotNull(policy.Refusal("orchestrator@10.0.0.2:4050", Replication("/user/node-gateway")));
        Assert.NotNull(policy.Refusal("orchestrator@10.0.0.2:4050", Replication("/user/object-store-x")));
        // a single master has no peers and no replicas
        Assert.NotNull(ClusterGuardPolicy.ForMaster().Refusal("orchestrator@10.0.0.2:4050", Replication("/user/store-replica")));
    }

    [Fact]
    public void A_node_of_several_masters_takes_the_node_protocol_from_each_of_them_and_no_one_else()
    {
        var policy = ClusterGuardPolicy.ForNode("10.0.0.1:4050,10.0.0.2:4050");
        RemoteWire.Envelope From(string master) => new("akka.ssl.tcp://orchestrator@10.0.0.7:4051/user/node-agent",
            $"akka.ssl.tcp://orchestrator@{master}/user/node-gateway",
            new RemoteWire.Payload(ClusterGuardPolicy.ProtocolSerializerId, nameof(NodeRegistered), Google.Protobuf.ByteString.Empty));
        Assert.Null(policy.Refusal("orchestrator@10.0.0.1:4050", From("10.0.0.1:4050")));
        Assert.Null(policy.Refusal("orchestrator@10.0.0.2:4050", From("10.0.0.2:4050")));
        Assert.NotNull(policy.Refusal("orchestrator@10.0.0.8:4051", From("10.0.0.8:4051")));
    }

    [Fact]
    public void The_gateway_path_itself_is_accepted() =>
        Assert.Null(ClusterGuardPolicy.ForMaster().Refusal("orchestrator@10.0.0.2:4051", new RemoteWire.Envelope(
            "akka.ssl.tcp://orchestrator@10.0.0.1:4050/user/node-gateway", "akka.ssl.tcp://orchestrator@10.0.0.2:4051/user/node-agent",
            new RemoteWire.Payload(ClusterGuardPolicy.ProtocolSerializerId, nameof(NodeHeartbeat), Google.Protobuf.ByteString.Empty))));

    [Theory]
    [InlineData("akka.ssl.tcp://orchestrator@10.0.0.1:4050/user/node-gateway#123", "/user/node-gateway")]
    [InlineData("akka.ssl.tcp://orchestrator@10.0.0.1:4050/", "/")]
    [InlineData("akka.ssl.tcp://orchestrator@10.0.0.1:4050", "/")]
    [InlineData("akka.ssl.tcp://orchestrator@[::1]:4050/system/cluster/core/daemon", "/system/cluster/core/daemon")]
    public void Local_paths_drop_the_address_and_the_uid(string path, string local) =>
        Assert.Equal(local, ClusterGuardPolicy.LocalPath(path));

    [Theory]
    [InlineData("10.0.0.1", "10.0.0.1", true)]
    [InlineData("10.0.0.1", "[::ffff:10.0.0.1]", true)]
    [InlineData("10.0.0.2", "10.0.0.1", false)]
    [InlineData("10.0.0.2", "[::ffff:127.0.0.1]", true)] // a member on this machine
    [InlineData("10.0.0.2", "[::ffff:10.0.0.1]", false)]
    public void A_handshake_address_must_be_the_peer_s(string claimed, string peer, bool same) =>
        Assert.Equal(same, ClusterGuard.SameHost(claimed, peer));

    /// <summary>The address a node's agent signs its registration for (<see cref="NodeCredentials"/>) is the sender the
    /// master sees over real remoting, so the proof verifies there; the same proof sent by another member does not.</summary>
    [Fact]
    public async Task A_registration_proof_signed_for_the_agents_address_verifies_only_from_that_agent()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var agent = _node.ActorOf(Props.Create(() => new Recorder(_agent.Writer)), "registering-agent");
        var signedFor = agent.Path.ToStringWithAddress(((ExtendedActorSystem)_node).Provider.DefaultAddress);
        var register = new RegisterNode(new V1Node { Metadata = new V1ObjectMeta { Name = "node-1" } }, null,
            NodeCredentials.Sign(key, "node-1", signedFor, DateTime.UtcNow, null, NodeCredentials.SigningRequest(key, "node-1")));

        Ref(_node, Gateway).Tell(register, agent);
        var arrived = Assert.IsType<RegisterNode>(await Next(_gateway));
        Assert.Null(NodeCredentials.CheckProof(arrived.Credential!, key, "node-1", _senders[arrived], DateTime.UtcNow));

        Ref(_rogue, Gateway).Tell(register, _rogue.ActorOf(Props.Create(() => new Recorder(_agent.Writer)), "registering-agent"));
        var replayed = Assert.IsType<RegisterNode>(await Next(_gateway));
        Assert.Contains("not the sender", NodeCredentials.CheckProof(replayed.Credential!, key, "node-1", _senders[replayed], DateTime.UtcNow));
    }

    private sealed class SenderRecorder : ReceiveActor
    {
        public SenderRecorder(ChannelWriter<object> received, System.Collections.Concurrent.ConcurrentDictionary<object, string> senders) =>
            ReceiveAny(message =>
            {
                senders[message] = Sender.Path.ToString();
                received.TryWrite(message);
            });
    }

    private string Gateway => $"{_masterAddress}/user/{NodeProtocolNames.GatewayActorName}";

    private static NodeHeartbeat Heartbeat(string node) => new(node, new V1NodeStatus());

    private static IActorRef Ref(ActorSystem system, string path) => ((ExtendedActorSystem)system).Provider.ResolveActorRef(path);

    /// <summary>The rogue's own, allowed, message arrives at the gateway, and is the first thing there.</summary>
    private async Task MarkerArrives()
    {
        Ref(_rogue, Gateway).Tell(Heartbeat("marker"));
        var first = await Next(_gateway);
        Assert.Equal("marker", Assert.IsType<NodeHeartbeat>(first).NodeName);
    }

    private static async Task<object> Next(Channel<object> channel)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await channel.Reader.ReadAsync(timeout.Token);
    }

    public sealed record Polymorphic(string Text);

    private sealed class Watcher : ReceiveActor
    {
        public Watcher(IActorRef watched, ChannelWriter<object> terminated)
        {
            Context.Watch(watched);
            Receive<Terminated>(t => terminated.TryWrite(t));
        }
    }
}
