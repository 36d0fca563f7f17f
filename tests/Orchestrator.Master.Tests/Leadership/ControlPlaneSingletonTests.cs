using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Orchestrator.Master.Leadership;
using Orchestrator.Shared.Protocol;
using Orchestrator.Shared.Protocol.Serialization;
using Xunit;

namespace Orchestrator.Master.Tests.Leadership;

/// <summary>
/// The control plane as a cluster singleton over three masters (plain TCP on loopback, the masters' downing): it starts
/// on the oldest only, every master finds that one from the cluster state with its announced API, and when the oldest
/// dies the next oldest starts it, once.
/// </summary>
public sealed class ControlPlaneSingletonTests : IAsyncLifetime
{
    private readonly List<(ActorSystem System, MasterLeadership Leadership, int Port)> _masters = [];
    private readonly List<int> _startedOn = [];

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task InitializeAsync()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => FreePort()).ToArray();
        var seeds = string.Join(", ", ports.Select(p => $"\"akka.tcp://{NodeProtocolNames.ActorSystemName}@127.0.0.1:{p}\""));
        for (var i = 0; i < 3; i++)
        {
            var index = i;
            var config = ConfigurationFactory.ParseString($$"""
                akka.actor.provider = cluster
                akka.loglevel = WARNING
                akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{ports[i]}} }
                akka.cluster { roles = ["master", "{{MasterLeadership.ApiRole("127.0.0.1", 7443 + i, "127.0.0.1")}}"], seed-nodes = [{{seeds}}] }
                akka.cluster.run-coordinated-shutdown-when-down = on
                """).WithFallback(ConfigurationFactory.ParseString(ClusterMembership.Build(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), multiMaster: true)));
            var system = ActorSystem.Create(NodeProtocolNames.ActorSystemName, config);
            var leadership = new MasterLeadership();
            var peers = MasterPeers.Parse(string.Join(",", ports.Select(p => $"127.0.0.1:{p}")), $"127.0.0.1:{ports[i]}");
            Assert.True(peers.Several);
            ControlPlaneHostingExtensions.StartManager(system, leadership, () =>
            {
                lock (_startedOn) _startedOn.Add(index);
            });
            _masters.Add((system, leadership, ports[i]));
            // the first is the oldest: the others join it in order
            await Eventually(() => Cluster.Get(system).SelfMember.Status == MemberStatus.Up, "master " + i + " up");
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var (system, _, _) in _masters) await system.Terminate();
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(100))
            if (condition()) return;
        Assert.Fail("not within 60 s: " + what);
    }

    [Fact]
    public async Task Runs_once_on_the_oldest_and_moves_once_to_the_next_oldest_when_it_dies()
    {
        await Eventually(() => _masters[0].Leadership.HostsControlPlane, "the oldest master holds the control plane");
        await Task.Delay(1000); // nothing else starts it meanwhile
        Assert.Equal([0], _startedOn);
        Assert.False(_masters[1].Leadership.HostsControlPlane);
        Assert.False(_masters[2].Leadership.HostsControlPlane);

        var cluster = Cluster.Get(_masters[2].System);
        await Eventually(() => cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == 3, "three masters up");
        var leader = MasterLeadership.Find(cluster.State, cluster.SelfMember);
        Assert.Equal(new Uri("https://127.0.0.1:7443"), leader.Api);
        Assert.True(leader.Reachable);
        Assert.False(leader.IsSelf);

        // the oldest dies without leaving: the other two (the majority of the masters) down it and the next oldest takes over
        await _masters[0].System.Terminate();
        await Eventually(() => _masters[1].Leadership.HostsControlPlane, "the next oldest master holds the control plane");
        Assert.Equal([0, 1], _startedOn);
        Assert.False(_masters[2].Leadership.HostsControlPlane);
        await Eventually(() => MasterLeadership.Find(cluster.State, cluster.SelfMember).Api == new Uri("https://127.0.0.1:7444"), "the others find the new leader's API");
        Assert.False(_masters[1].System.WhenTerminated.IsCompleted);
    }
}
