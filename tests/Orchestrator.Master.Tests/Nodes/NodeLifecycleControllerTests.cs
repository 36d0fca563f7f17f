using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Nodes;

public sealed class NodeLifecycleControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly NodeLifecycleSettings Fast =
        new(TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(5));

    [Fact]
    public void A_node_silent_past_the_grace_period_turns_unknown_and_its_pods_not_ready()
    {
        var silent = Node("quiet");
        silent.Status.Conditions[0].LastHeartbeatTime = DateTime.UtcNow.AddMinutes(-2);
        Seed(silent);
        Seed(Node("chatty"));
        Seed(Pod("web-1", App("web"), nodeName: "quiet", phase: "Running", ready: true, podIp: "172.18.0.2"));
        Sys.ActorOf(NodeLifecycleController.Props(Store, Fast));

        AwaitAssert(() =>
        {
            var ready = Find<V1Node>("quiet")!.Status.Conditions.Single(c => c.Type == "Ready");
            Assert.Equal(("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."), (ready.Status, ready.Reason, ready.Message));
        });
        AwaitAssert(() => Assert.Equal("False", Find<V1Pod>("web-1")!.Status.Conditions.Single(c => c.Type == "Ready").Status));
        Assert.Equal("True", Find<V1Node>("chatty")!.Status.Conditions.Single(c => c.Type == "Ready").Status);
    }
}
