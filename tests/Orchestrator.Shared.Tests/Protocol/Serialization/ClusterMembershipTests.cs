using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Orchestrator.Shared.Protocol;
using Orchestrator.Shared.Protocol.Serialization;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Shared.Tests.Protocol.Serialization.ClusterTestSystems;

namespace Orchestrator.Shared.Tests.Protocol.Serialization;

/// <summary>
/// Downing with the split brain resolver as both roles configure it, on a master and two nodes: whichever member dies,
/// the master survives. Two nodes that lose the master are the majority: the resolver's default (keep-majority) would
/// keep them, so the first test fails without keep-oldest.
/// </summary>
public sealed class ClusterMembershipTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string MasterHost = "127.0.0.31";
    private const string NodeHost = "127.0.0.32";
    private const string OtherNodeHost = "127.0.0.33";
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HeartbeatPause = TimeSpan.FromSeconds(2);
    private static readonly string Membership = ClusterMembership.Build(StableAfter, HeartbeatPause);
    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-sbr-").FullName;
    private ActorSystem _master = null!;
    private ActorSystem _node = null!;
    private ActorSystem _otherNode = null!;

    public async Task InitializeAsync()
    {
        var pfx = WriteCertificate(_directory, "cluster.pfx");
        var masterPort = FreePort(System.Net.IPAddress.Parse(MasterHost));
        var master = $"{MasterHost}:{masterPort}";
        _master = Start(MasterHost, masterPort, NodeProtocolNames.MasterRole, master, ClusterTls.Load(pfx), Membership);
        _node = Start(NodeHost, 0, NodeProtocolNames.NodeRole, master, ClusterTls.Load(pfx), Membership);
        _otherNode = Start(OtherNodeHost, 0, NodeProtocolNames.NodeRole, master, ClusterTls.Load(pfx), Membership);
        Assert.True(await Eventually(() => Cluster.Get(_master).State.Members.Count(m => m.Status == MemberStatus.Up) == 3, TimeSpan.FromSeconds(30)),
            "the nodes did not join");
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(new[] { _master, _node, _otherNode }.Select(s => s.Terminate().WaitAsync(TimeSpan.FromSeconds(20))));
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Nodes_that_lose_the_master_down_themselves_and_their_actor_systems_end()
    {
        var stopwatch = Stopwatch.StartNew();
        ((ExtendedActorSystem)_master).Abort(); // a crash: no leaving, the nodes just stop hearing from it

        var bothEnded = Task.WhenAll(_node.WhenTerminated, _otherNode.WhenTerminated);
        var ended = await Task.WhenAny(bothEnded, Task.Delay(TimeSpan.FromSeconds(40))) == bothEnded;
        output.WriteLine($"nodes' actor systems ended {stopwatch.Elapsed.TotalSeconds:0.0}s after the master crashed");
        Assert.True(ended, "a node's actor system is still running 40 s after it lost the master");
    }

    [Fact]
    public async Task The_master_downs_a_crashed_node_and_keeps_running()
    {
        var nodeAddress = Cluster.Get(_node).SelfAddress;
        var stopwatch = Stopwatch.StartNew();
        ((ExtendedActorSystem)_node).Abort();

        var removed = await Eventually(() => Cluster.Get(_master).State.Members.All(m => m.Address != nodeAddress), TimeSpan.FromSeconds(30));
        output.WriteLine($"node removed from the master's cluster {stopwatch.Elapsed.TotalSeconds:0.0}s after it crashed");
        Assert.True(removed, "the crashed node is still a member 30 s later");
        Assert.False(_master.WhenTerminated.IsCompleted, "the master's actor system ended");
        Assert.Equal(MemberStatus.Up, Cluster.Get(_master).SelfMember.Status);
    }

    [Fact]
    public void Both_roles_send_the_transport_heartbeat_every_half_second_and_leave_akka_s_acceptable_pause()
    {
        foreach (var hocon in new[] { ClusterMembership.Hocon, ClusterMembership.ForMasters(1), ClusterMembership.ForMasters(3) })
        {
            var detector = ConfigurationFactory.ParseString(hocon).GetConfig("akka.remote.transport-failure-detector");
            Assert.Equal(TimeSpan.FromMilliseconds(500), detector.GetTimeSpan("heartbeat-interval"));
            Assert.False(detector.HasPath("acceptable-heartbeat-pause")); // Akka's 120 s: only the first join was slow
        }
    }

    [Fact]
    public void Downing_is_keep_oldest_of_role_master_and_never_downs_the_master_by_itself()
    {
        var config = ConfigurationFactory.ParseString(ClusterMembership.Hocon).GetConfig("akka.cluster");
        Assert.Equal("keep-oldest", config.GetString("split-brain-resolver.active-strategy"));
        Assert.Equal(NodeProtocolNames.MasterRole, config.GetString("split-brain-resolver.keep-oldest.role"));
        Assert.False(config.GetBoolean("split-brain-resolver.keep-oldest.down-if-alone"));
        Assert.Equal("off", config.GetString("split-brain-resolver.down-all-when-unstable"));
        Assert.Equal(ClusterMembership.DefaultStableAfter, config.GetTimeSpan("split-brain-resolver.stable-after"));
        Assert.Equal(ClusterMembership.DefaultHeartbeatPause, config.GetTimeSpan("failure-detector.acceptable-heartbeat-pause"));
    }

    [Fact]
    public void Several_masters_keep_the_majority_of_the_masters_and_one_master_keeps_the_oldest()
    {
        var several = ConfigurationFactory.ParseString(ClusterMembership.ForMasters(3)).GetConfig("akka.cluster");
        Assert.Equal("keep-majority", several.GetString("split-brain-resolver.active-strategy"));
        Assert.Equal(NodeProtocolNames.MasterRole, several.GetString("split-brain-resolver.keep-majority.role"));
        Assert.Equal("off", several.GetString("split-brain-resolver.down-all-when-unstable"));
        var one = ConfigurationFactory.ParseString(ClusterMembership.ForMasters(1)).GetConfig("akka.cluster");
        Assert.Equal("keep-oldest", one.GetString("split-brain-resolver.active-strategy"));
        Assert.Equal(ClusterMembership.Hocon, ClusterMembership.ForMasters(1));
    }

    [Fact]
    public void Several_masters_down_sooner_and_move_the_singleton_after_a_short_removal_margin()
    {
        var several = ConfigurationFactory.ParseString(ClusterMembership.ForMasters(3)).GetConfig("akka.cluster");
        Assert.Equal(ClusterMembership.MultiMasterStableAfter, several.GetTimeSpan("split-brain-resolver.stable-after"));
        Assert.Equal(ClusterMembership.MultiMasterHeartbeatPause, several.GetTimeSpan("failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(ClusterMembership.MultiMasterDownRemovalMargin, several.GetTimeSpan("down-removal-margin"));
        Assert.Equal(TimeSpan.FromMilliseconds(500), several.GetTimeSpan("leader-actions-interval"));
        // one master keeps Akka's defaults: no removal margin of its own (the resolver's stable-after applies)
        var one = ConfigurationFactory.ParseString(ClusterMembership.ForMasters(1)).GetConfig("akka.cluster");
        Assert.False(one.HasPath("down-removal-margin"));
        // its leader moves a leaving member (deploy/down.sh) to Exiting, and a joining node to Up, sooner than Akka's 1 s
        Assert.Equal(ClusterMembership.SingleMasterLeaderActionsInterval, one.GetTimeSpan("leader-actions-interval"));
    }

    [Fact]
    public void The_master_flags_set_stable_after_and_heartbeat_pause_in_seconds()
    {
        var stableAfter = ClusterMembership.Seconds("10", ClusterMembership.DefaultStableAfter, "cluster-stable-after");
        var pause = ClusterMembership.Seconds("2.5", ClusterMembership.DefaultHeartbeatPause, "cluster-heartbeat-pause");
        var config = ConfigurationFactory.ParseString(ClusterMembership.Build(stableAfter, pause)).GetConfig("akka.cluster");

        Assert.Equal(TimeSpan.FromSeconds(10), config.GetTimeSpan("split-brain-resolver.stable-after"));
        Assert.Equal(TimeSpan.FromSeconds(2.5), config.GetTimeSpan("failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(ClusterMembership.DefaultStableAfter, ClusterMembership.Seconds(null, ClusterMembership.DefaultStableAfter, "cluster-stable-after"));
        Assert.Contains("--cluster-stable-after", Assert.Throws<ArgumentException>(
            () => ClusterMembership.Seconds("soon", ClusterMembership.DefaultStableAfter, "cluster-stable-after")).Message);
    }
}
