using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Tests.Agent;

public sealed class PodStatusBuilderTests
{
    private static readonly DateTime Now = new(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    private static ContainerView Running(V1Container spec, string ip = "172.18.0.5") =>
        new(spec, "abc", new ContainerObservation("abc", "sha256:1", true, 0, Now.AddMinutes(-1), null, ip, false, null), "sha256:1", 0, null, null, null);

    private static ContainerView Exited(V1Container spec, int code) =>
        new(spec, "abc", new ContainerObservation("abc", "sha256:1", false, code, Now.AddMinutes(-1), Now, null, false, null), "sha256:1", 0, null, null, null);

    private static ContainerView Waiting(V1Container spec, string reason, V1ContainerStateTerminated? last = null) =>
        new(spec, null, null, null, last is null ? 0 : 1, last, reason, null);

    [Fact]
    public void All_containers_running_is_a_Running_Ready_pod_with_the_container_IP()
    {
        var pod = TestPods.Pod("web-1", containers: ["a", "b"]);
        var status = PodStatusBuilder.Build(pod, [Running(pod.Spec.Containers[0]), Running(pod.Spec.Containers[1])], "127.0.0.1", Now, null, Now);

        Assert.Equal("Running", status.Phase);
        Assert.Equal("172.18.0.5", status.PodIP);
        Assert.Equal("BestEffort", status.QosClass);
        Assert.All(["Initialized", "Ready", "ContainersReady", "PodScheduled"], type =>
            Assert.Equal("True", status.Conditions.Single(c => c.Type == type).Status));
        Assert.Equal("docker://sha256:1", status.ContainerStatuses[0].ImageID);
    }

    [Fact]
    public void A_container_still_being_created_keeps_the_pod_Pending_and_not_ready()
    {
        var pod = TestPods.Pod("web-1", containers: ["a", "b"]);
        var status = PodStatusBuilder.Build(pod, [Running(pod.Spec.Containers[0]), Waiting(pod.Spec.Containers[1], "ContainerCreating")], "127.0.0.1", Now, null, Now);

        Assert.Equal("Pending", status.Phase);
        var ready = status.Conditions.Single(c => c.Type == "Ready");
        Assert.Equal(("False", "ContainersNotReady", "containers with unready status: [b]"), (ready.Status, ready.Reason, ready.Message));
    }

    [Fact]
    public void A_crash_looping_container_keeps_the_pod_Running()
    {
        var pod = TestPods.Pod("web-1");
        var last = new V1ContainerStateTerminated { ExitCode = 1, Reason = "Error" };
        var status = PodStatusBuilder.Build(pod, [Waiting(pod.Spec.Containers[0], "CrashLoopBackOff", last)], "127.0.0.1", Now, null, Now);
        Assert.Equal("Running", status.Phase);
        Assert.Equal(1, status.ContainerStatuses[0].LastState.Terminated.ExitCode);
    }

    [Theory]
    [InlineData("Never", 0, "Succeeded")]
    [InlineData("Never", 1, "Failed")]
    [InlineData("OnFailure", 0, "Succeeded")]
    public void Terminated_containers_that_will_not_restart_end_the_pod(string restartPolicy, int exitCode, string phase)
    {
        var pod = TestPods.Pod("job-1", restartPolicy: restartPolicy);
        var status = PodStatusBuilder.Build(pod, [Exited(pod.Spec.Containers[0], exitCode)], "127.0.0.1", Now, null, Now);
        Assert.Equal(phase, status.Phase);
        Assert.Equal("PodCompleted", status.Conditions.Single(c => c.Type == "Ready").Reason);
    }

    [Fact]
    public void Condition_transition_times_are_kept_while_the_condition_holds()
    {
        var pod = TestPods.Pod("web-1");
        var first = PodStatusBuilder.Build(pod, [Running(pod.Spec.Containers[0])], "127.0.0.1", Now, null, Now);
        var later = PodStatusBuilder.Build(pod, [Running(pod.Spec.Containers[0])], "127.0.0.1", Now, first, Now.AddMinutes(5));
        var notReady = PodStatusBuilder.Build(pod, [Waiting(pod.Spec.Containers[0], "ContainerCreating")], "127.0.0.1", Now, later, Now.AddMinutes(6));

        Assert.Equal(Now, later.Conditions.Single(c => c.Type == "Ready").LastTransitionTime);
        Assert.Equal(Now.AddMinutes(6), notReady.Conditions.Single(c => c.Type == "Ready").LastTransitionTime);
        Assert.Equal(Now, notReady.Conditions.Single(c => c.Type == "PodScheduled").LastTransitionTime);
    }
}
