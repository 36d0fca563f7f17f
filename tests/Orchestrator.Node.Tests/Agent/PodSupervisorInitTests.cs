using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

public sealed class PodSupervisorInitTests : TestKit
{
    private readonly FakeRuntime _runtime = new FakeRuntime().WithImage("web:1");

    private static readonly PodSupervisorSettings Fast = new("node-a", "127.0.0.1",
        SyncInterval: TimeSpan.FromMilliseconds(50), InitialBackOff: TimeSpan.FromMilliseconds(300), MaxBackOff: TimeSpan.FromSeconds(3));

    private static V1Pod WithInits(string restartPolicy = "Always")
    {
        var pod = TestPods.Pod("init-1", restartPolicy: restartPolicy);
        pod.Spec.InitContainers = [new V1Container { Name = "first", Image = "web:1" }, new V1Container { Name = "second", Image = "web:1" }];
        return pod;
    }

    [Fact]
    public void Init_containers_run_in_order_to_completion_before_the_app_container()
    {
        var pod = WithInits();
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var initializing = parent.Expect<PodStatusReported>(r => r.Status.InitContainerStatuses?[0].State.Running != null);
        Assert.Equal("Pending", initializing.Status.Phase);
        Assert.Equal("False", initializing.Status.Conditions.Single(c => c.Type == "Initialized").Status);
        Assert.Equal("PodInitializing", initializing.Status.ContainerStatuses[0].State.Waiting.Reason);
        Assert.Equal(["first"], _runtime.Of(pod.Metadata.Uid).Select(c => c.ContainerName));

        _runtime.Exit(_runtime.Of(pod.Metadata.Uid).Single(c => c.ContainerName == "first").Id, 0);
        AwaitAssert(() => Assert.Contains(_runtime.Of(pod.Metadata.Uid), c => c.ContainerName == "second" && c.Running),
            TimeSpan.FromSeconds(15));
        Assert.DoesNotContain(_runtime.Of(pod.Metadata.Uid), c => c.ContainerName == "app");

        _runtime.Exit(_runtime.Of(pod.Metadata.Uid).Single(c => c.ContainerName == "second").Id, 0);
        var running = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.Equal("True", running.Status.Conditions.Single(c => c.Type == "Initialized").Status);
        Assert.All(running.Status.InitContainerStatuses, s => Assert.Equal("Completed", s.State.Terminated.Reason));
    }

    [Fact]
    public void A_failed_init_container_fails_a_pod_that_never_restarts()
    {
        var pod = WithInits(restartPolicy: "Never");
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.InitContainerStatuses?[0].State.Running != null);

        _runtime.Exit(_runtime.Of(pod.Metadata.Uid).Single().Id, 2);
        var failed = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Failed");
        Assert.Equal(2, failed.Status.InitContainerStatuses[0].State.Terminated.ExitCode);
        Assert.DoesNotContain(_runtime.Of(pod.Metadata.Uid), c => c.ContainerName != "first");
    }
}
