using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

public sealed class PodSupervisorProbeTests : TestKit
{
    private readonly FakeRuntime _runtime = new FakeRuntime().WithImage("web:1");

    private static readonly PodSupervisorSettings Fast = new("node-a", "127.0.0.1",
        SyncInterval: TimeSpan.FromMilliseconds(50), InitialBackOff: TimeSpan.FromMilliseconds(300), MaxBackOff: TimeSpan.FromSeconds(3))
    {
        ProbeInterval = TimeSpan.FromMilliseconds(20),
    };

    private static V1Probe ExecProbe(string command) => new()
    {
        Exec = new V1ExecAction { Command = ["sh", "-c", command] }, PeriodSeconds = 1, FailureThreshold = 2,
    };

    [Fact]
    public void A_failing_liveness_probe_kills_and_restarts_the_container_with_events()
    {
        var pod = TestPods.Pod("live-1");
        pod.Spec.Containers[0].LivenessProbe = ExecProbe("check-alive");
        _runtime.Exec = (_, _) => new ExecResult(1, "dead");
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var unhealthy = parent.Expect<NodeEventReported>(e => e.Event.Reason == "Unhealthy");
        Assert.StartsWith("Liveness probe failed: command sh -c check-alive exited with 1", unhealthy.Event.Message);
        var killing = parent.Expect<NodeEventReported>(e => e.Event.Reason == "Killing", TimeSpan.FromSeconds(5));
        Assert.Contains("failed liveness probe, will be restarted", killing.Event.Message);
        var restarted = parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].RestartCount == 1
                                                             && r.Status.ContainerStatuses[0].State.Running != null, TimeSpan.FromSeconds(5));
        Assert.Equal(143, restarted.Status.ContainerStatuses[0].LastState.Terminated.ExitCode);
    }

    [Fact]
    public void Readiness_follows_the_probe_and_sets_the_pod_conditions()
    {
        var pod = TestPods.Pod("ready-1");
        pod.Spec.Containers[0].ReadinessProbe = ExecProbe("check-ready");
        var ready = false;
        _runtime.Exec = (_, _) => new ExecResult(ready ? 0 : 1, "");
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var running = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.False(running.Status.ContainerStatuses[0].Ready);
        Assert.Equal("False", running.Status.Conditions.Single(c => c.Type == "Ready").Status);

        ready = true;
        var nowReady = parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].Ready == true, TimeSpan.FromSeconds(5));
        Assert.Equal("True", nowReady.Status.Conditions.Single(c => c.Type == "ContainersReady").Status);

        ready = false;
        var notReady = parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].Ready == false, TimeSpan.FromSeconds(5));
        Assert.Equal("False", notReady.Status.Conditions.Single(c => c.Type == "Ready").Status);
        Assert.Equal(0, notReady.Status.ContainerStatuses[0].RestartCount); // readiness never restarts
    }

    [Fact]
    public void Until_the_startup_probe_passes_the_container_is_not_started_and_liveness_does_not_run()
    {
        var pod = TestPods.Pod("start-1");
        pod.Spec.Containers[0].StartupProbe = ExecProbe("started");
        pod.Spec.Containers[0].LivenessProbe = ExecProbe("alive");
        var started = false;
        _runtime.Exec = (_, cmd) => new ExecResult(cmd[2] == "started" && !started ? 1 : 0, "");
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var running = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.False(running.Status.ContainerStatuses[0].Started);
        Assert.DoesNotContain(_runtime.Execs, e => e.Command.EndsWith("alive"));
        started = true;
        parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].Started == true, TimeSpan.FromSeconds(5));
        AwaitAssert(() => Assert.Contains(_runtime.Execs, e => e.Command.EndsWith("alive")), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void PreStop_runs_before_the_container_is_stopped_with_the_pods_full_grace_period()
    {
        var pod = TestPods.Pod("stop-1");
        pod.Spec.TerminationGracePeriodSeconds = 120; // above the old 30 s cap
        pod.Spec.Containers[0].Lifecycle = new V1Lifecycle { PreStop = new V1LifecycleHandler { Exec = new V1ExecAction { Command = ["drain"] } } };
        var parent = CreateTestProbe();
        var supervisor = parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        var container = _runtime.Of(pod.Metadata.Uid).Single();

        supervisor.Tell(new StopPod(ReportFinalStatus: true), parent.Ref);
        parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].State.Terminated != null);
        Assert.Contains(_runtime.Execs, e => e.ContainerId == container.Id && e.Command == "drain");
        Assert.True(container.StopGrace > TimeSpan.FromSeconds(100), $"grace {container.StopGrace}");
    }
}
