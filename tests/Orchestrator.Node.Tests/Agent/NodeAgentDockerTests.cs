using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Services;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

/// <summary>The agent on the real Docker engine: a restarted agent adopts the running sandbox and container instead of
/// duplicating them.</summary>
public sealed class NodeAgentDockerTests(DockerFixture docker) : TestKit, IClassFixture<DockerFixture>
{
    private NodeAgentSettings Settings(TestProbe gateway) => new(
        docker.NodeName, "127.0.0.1", gateway.Ref.Path.ToString(), UseCluster: false,
        TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(200),
        TimeSpan.FromSeconds(30), PodSupervisorSettings.Default(docker.NodeName, "127.0.0.1") with { SyncInterval = TimeSpan.FromMilliseconds(200) });

    private static V1Pod Pod() => new()
    {
        Metadata = new V1ObjectMeta { Name = $"web-{Guid.NewGuid():N}"[..12], NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
        Spec = new V1PodSpec
        {
            TerminationGracePeriodSeconds = 1,
            Containers = [new V1Container { Name = "web", Image = DockerFixture.Image, Ports = [new V1ContainerPort { ContainerPort = 80 }] }],
        },
    };

    private IActorRef StartAgent(TestProbe gateway)
    {
        var agent = Sys.ActorOf(NodeAgent.Props(Settings(gateway), docker.Runtime, new ServiceDirectory()));
        gateway.ExpectMsg<RegisterNode>(TimeSpan.FromSeconds(10));
        agent.Tell(new NodeRegistered(docker.NodeName), gateway.Ref);
        return agent;
    }

    [Fact]
    public async Task A_restarted_agent_adopts_the_running_container_and_removes_it_when_the_pod_goes()
    {
        var pod = Pod();
        var gateway = CreateTestProbe();
        var first = StartAgent(gateway);
        first.Tell(new DesiredPodsChanged(docker.NodeName, 1, [pod]));
        var running = gateway.Expect<PodStatusReported>(r => r.Status.Phase == "Running", TimeSpan.FromSeconds(20));
        Assert.False(string.IsNullOrEmpty(running.Status.PodIP));
        var containerId = running.Status.ContainerStatuses[0].ContainerID;

        Watch(first);
        Sys.Stop(first);
        ExpectTerminated(first);

        var second = StartAgent(gateway);
        second.Tell(new DesiredPodsChanged(docker.NodeName, 1, [pod]));
        var adopted = gateway.Expect<PodStatusReported>(r => r.Status.Phase == "Running", TimeSpan.FromSeconds(20));
        Assert.Equal(containerId, adopted.Status.ContainerStatuses[0].ContainerID);
        Assert.Equal(running.Status.PodIP, adopted.Status.PodIP);
        var listed = await docker.Runtime.ListContainersAsync(pod.Metadata.Uid);
        Assert.Equal([false, true], listed.Select(c => c.IsSandbox).Order()); // the same sandbox, no second one

        second.Tell(new DesiredPodsChanged(docker.NodeName, 2, []));
        await AwaitConditionAsync(async () => (await docker.Runtime.ListContainersAsync(pod.Metadata.Uid)).Count == 0, TimeSpan.FromSeconds(20));
    }
}
