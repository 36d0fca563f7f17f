using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Agent.Kubelet;
using Orchestrator.Node.Services;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol.Serialization;

namespace Orchestrator.Node.Tests.Agent;

/// <summary>orchestrator-all-in-one starts its node's host beside its master's and lets the node's actor system join
/// only once the master is Up (<see cref="NodeClusterOptions.JoinAfter"/>).</summary>
public sealed class NodeIncarnationsJoinTests
{
    private static NodeIncarnations Incarnations(Task? joinAfter)
    {
        // a master address nothing listens on: the actor system, once made, keeps trying to join
        var options = new NodeClusterOptions("127.0.0.1", 0, "127.0.0.1:1", ClusterTls.Load(TestCluster.CertificatePath),
            NodeAgentSettings.Default("gated", "127.0.0.1", "127.0.0.1:1"), joinAfter);
        return new NodeIncarnations(options, new FakeRuntime(), new ServiceDirectory(), new KubeletIdentity("gated", IPAddress.Loopback),
            NullLoggerFactory.Instance, NullLogger<NodeIncarnations>.Instance);
    }

    [Fact]
    public async Task The_actor_system_is_made_once_the_master_is_joinable()
    {
        var joinable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var incarnations = Incarnations(joinable.Task);
        await incarnations.StartAsync(CancellationToken.None);
        Assert.Null(incarnations.Current);

        joinable.SetResult();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (incarnations.Current is null && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.NotNull(incarnations.Current);
        await incarnations.StopAsync(CancellationToken.None);
        Assert.True(incarnations.Current.WhenTerminated.IsCompleted);
    }

    [Fact]
    public async Task A_node_stopped_before_its_master_is_joinable_makes_no_actor_system()
    {
        var never = new TaskCompletionSource();
        var incarnations = Incarnations(never.Task);
        await incarnations.StartAsync(CancellationToken.None);
        await incarnations.StopAsync(CancellationToken.None);
        Assert.True(incarnations.ExecuteTask is null or { IsCompleted: true, IsFaulted: false }); // (cancelled if it never ran)
        Assert.Null(incarnations.Current);
    }
}
