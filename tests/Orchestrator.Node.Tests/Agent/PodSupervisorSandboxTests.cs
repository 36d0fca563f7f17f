using Akka.Actor;
using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

/// <summary>The pod sandbox: first, shared, kept across container restarts, replaced (with the containers) when it dies.</summary>
public sealed class PodSupervisorSandboxTests : TestKit
{
    private readonly FakeRuntime _runtime = new FakeRuntime().WithImage("web:1");

    private static readonly PodSupervisorSettings Fast = new("node-a", "127.0.0.1",
        SyncInterval: TimeSpan.FromMilliseconds(50), InitialBackOff: TimeSpan.FromMilliseconds(300), MaxBackOff: TimeSpan.FromSeconds(3));

    private static V1Pod PodWithPodIpEnv(string restartPolicy = "Always")
    {
        var pod = TestPods.Pod("web-1", restartPolicy: restartPolicy, containers: ["app", "sidecar"]);
        pod.Spec.Containers[0].Env =
        [
            new V1EnvVar { Name = "POD_IP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" } } },
        ];
        return pod;
    }

    private FakeContainer Sandbox(V1Pod pod) => _runtime.SandboxesOf(pod.Metadata.Uid).Single();

    private FakeContainer Running(V1Pod pod, string name) => _runtime.Of(pod.Metadata.Uid).Single(c => c.ContainerName == name && c.Running);

    [Fact]
    public void The_sandbox_runs_first_its_containers_join_it_and_its_IP_is_the_pods_IP_known_to_the_environment()
    {
        var pod = PodWithPodIpEnv();
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var report = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        var sandbox = Sandbox(pod);
        Assert.Equal(["run POD", "create app", "create sidecar"], _runtime.Calls.Take(3));
        Assert.All(_runtime.Of(pod.Metadata.Uid), c => Assert.Equal(sandbox.Id, c.Request!.SandboxId));
        Assert.Equal(sandbox.Ip, report.Status.PodIP);
        Assert.Equal(sandbox.Ip, report.Status.PodIPs.Single().Ip);
        Assert.Equal(sandbox.Ip, Running(pod, "app").Request!.PodIp);
        Assert.Equal(["app", "sidecar"], report.Status.ContainerStatuses.Select(c => c.Name));
        Assert.Equal("True", report.Status.Conditions.Single(c => c.Type == "PodReadyToStartContainers").Status);
    }

    [Fact]
    public void A_crashed_container_restarts_in_the_same_sandbox_with_the_same_IP()
    {
        var pod = PodWithPodIpEnv();
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        var first = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");

        _runtime.Exit(Running(pod, "app").Id, 1);
        var restarted = parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0] is { RestartCount: 1, State.Running: not null });
        Assert.Equal(first.Status.PodIP, restarted.Status.PodIP);
        Assert.Equal(1, _runtime.SandboxCount);
        Assert.Equal(Sandbox(pod).Id, Running(pod, "app").Request!.SandboxId);
        Assert.Equal(0, restarted.Status.ContainerStatuses[1].RestartCount); // the sidecar was not touched
    }

    [Theory]
    [InlineData(true)]   // killed: the sandbox container exited
    [InlineData(false)]  // docker rm -f: it is gone
    public void A_dead_sandbox_is_replaced_and_the_pods_containers_are_killed_and_recreated_in_the_new_one(bool killed)
    {
        var pod = PodWithPodIpEnv();
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        var first = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        var old = Sandbox(pod);
        var oldApp = Running(pod, "app");

        if (killed) _runtime.Exit(old.Id, 137);
        else _runtime.Containers.TryRemove(old.Id, out _);

        parent.Expect<NodeEventReported>(e => e.Event.Reason == "SandboxChanged");
        var recreated = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running"
            && r.Status.ContainerStatuses.All(c => c is { RestartCount: 1, State.Running: not null }));
        var sandbox = Sandbox(pod); // the old one was removed
        Assert.NotEqual(old.Id, sandbox.Id);
        Assert.Equal(1, sandbox.RestartCount); // attempt 1
        Assert.Equal(sandbox.Ip, recreated.Status.PodIP);
        Assert.NotEqual(first.Status.PodIP, recreated.Status.PodIP);
        Assert.Equal(sandbox.Ip, Running(pod, "app").Request!.PodIp);
        Assert.All(_runtime.Of(pod.Metadata.Uid).Where(c => c.Running), c => Assert.Equal(sandbox.Id, c.SandboxId));
        // the killed instance is the previous one (logs --previous) and its end is the last state
        Assert.False(_runtime.Containers[oldApp.Id].Running);
        Assert.Equal(143, recreated.Status.ContainerStatuses[0].LastState.Terminated.ExitCode);
    }

    [Fact]
    public void A_restarted_supervisor_adopts_the_running_sandbox_and_its_containers()
    {
        var pod = PodWithPodIpEnv();
        var sandbox = _runtime.SeedSandbox(pod.Metadata.Uid, "web-1", attempt: 2);
        var app = _runtime.Seed(pod.Metadata.Uid, "web-1", "app", restartCount: 3, sandboxId: sandbox.Id);
        var sidecar = _runtime.Seed(pod.Metadata.Uid, "web-1", "sidecar", sandboxId: sandbox.Id);
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var report = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.Equal(sandbox.Ip, report.Status.PodIP);
        Assert.Equal([$"docker://{app.Id}", $"docker://{sidecar.Id}"], report.Status.ContainerStatuses.Select(c => c.ContainerID));
        Assert.Equal([3, 0], report.Status.ContainerStatuses.Select(c => c.RestartCount));
        Assert.Equal((0, 0), (_runtime.SandboxCount, _runtime.CreateCount));
        Assert.Empty(_runtime.Calls);
    }

    [Fact]
    public void Containers_adopted_without_a_running_sandbox_are_stopped_and_recreated_in_a_new_one()
    {
        var pod = PodWithPodIpEnv();
        var dead = _runtime.SeedSandbox(pod.Metadata.Uid, "web-1", running: false, attempt: 0);
        var app = _runtime.Seed(pod.Metadata.Uid, "web-1", "app", restartCount: 2, sandboxId: dead.Id);
        // made by an agent from before pods had sandboxes
        var legacy = _runtime.Seed(pod.Metadata.Uid, "web-1", "sidecar");
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var report = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running"
            && r.Status.ContainerStatuses.All(c => c.State.Running is not null && c.ContainerID != $"docker://{app.Id}" && c.ContainerID != $"docker://{legacy.Id}"));
        Assert.Equal([3, 1], report.Status.ContainerStatuses.Select(c => c.RestartCount));
        Assert.False(_runtime.Containers.ContainsKey(dead.Id));
        Assert.Equal(1, Sandbox(pod).RestartCount); // the next attempt after the dead one
        Assert.Equal(Sandbox(pod).Ip, report.Status.PodIP);
        Assert.Contains("stop app", _runtime.Calls);
        Assert.Contains("stop sidecar", _runtime.Calls);
    }

    [Fact]
    public void Init_containers_run_again_in_a_new_sandbox()
    {
        var pod = TestPods.Pod("init-1");
        pod.Spec.InitContainers = [new V1Container { Name = "setup", Image = "web:1" }];
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.InitContainerStatuses?[0].State.Running != null);
        _runtime.Exit(_runtime.Of(pod.Metadata.Uid).Single(c => c.ContainerName == "setup").Id, 0);
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");

        _runtime.Exit(Sandbox(pod).Id, 137);
        var again = parent.Expect<PodStatusReported>(r => r.Status.InitContainerStatuses[0] is { RestartCount: 1, State.Running: not null });
        Assert.Equal("PodInitializing", again.Status.ContainerStatuses[0].State.Waiting.Reason);
        Assert.DoesNotContain(_runtime.Of(pod.Metadata.Uid), c => c.ContainerName == "app" && c.Running);
        _runtime.Exit(Running(pod, "setup").Id, 0);
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running" && r.Status.ContainerStatuses[0].RestartCount == 1);
    }

    [Fact]
    public void A_pod_that_never_restarts_gets_no_new_sandbox_and_fails()
    {
        var pod = TestPods.Pod("job-1", restartPolicy: "Never");
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");

        _runtime.Exit(Sandbox(pod).Id, 137);
        var failed = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Failed");
        Assert.Equal(143, failed.Status.ContainerStatuses[0].State.Terminated.ExitCode);
        parent.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal((1, 1), (_runtime.SandboxCount, _runtime.CreateCount));
    }

    [Theory]
    [InlineData("Never", 0, "Succeeded")]
    [InlineData("Never", 2, "Failed")]
    [InlineData("OnFailure", 0, "Succeeded")]
    public void A_pod_that_has_finished_for_good_gives_its_sandbox_and_address_back(string restartPolicy, int exitCode, string phase)
    {
        var pod = TestPods.Pod("job-1", restartPolicy: restartPolicy);
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        var running = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");

        _runtime.Exit(Running(pod, "app").Id, exitCode);
        var done = parent.Expect<PodStatusReported>(r => r.Status.Phase == phase
            && r.Status.Conditions.Single(c => c.Type == "PodReadyToStartContainers").Status == "False");
        AwaitAssert(() => Assert.Empty(_runtime.SandboxesOf(pod.Metadata.Uid)));
        Assert.Equal(running.Status.PodIP, done.Status.PodIP);
        Assert.Equal(exitCode, done.Status.ContainerStatuses[0].State.Terminated.ExitCode);
        parent.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal((1, 1), (_runtime.SandboxCount, _runtime.CreateCount));
    }

    [Fact]
    public void A_failed_init_container_of_a_pod_that_never_restarts_gives_the_sandbox_back()
    {
        var pod = TestPods.Pod("init-1", restartPolicy: "Never");
        pod.Spec.InitContainers = [new V1Container { Name = "setup", Image = "web:1" }];
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.InitContainerStatuses?[0].State.Running != null);

        _runtime.Exit(Running(pod, "setup").Id, 1);
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Failed");
        AwaitAssert(() => Assert.Empty(_runtime.SandboxesOf(pod.Metadata.Uid)));
    }

    [Fact]
    public void Graceful_termination_stops_the_containers_first_then_the_sandbox()
    {
        var pod = PodWithPodIpEnv();
        var parent = CreateTestProbe();
        var supervisor = parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        var before = _runtime.Calls.Count;
        Watch(supervisor);

        supervisor.Tell(new StopPod(ReportFinalStatus: true));
        ExpectTerminated(supervisor);
        var calls = _runtime.Calls.Skip(before).ToList();
        Assert.Equal(["remove POD"], calls.TakeLast(1));
        Assert.Equal("stop POD", calls[^2]);
        Assert.All(calls.SkipLast(2), c => Assert.DoesNotContain("POD", c));
        Assert.Contains("stop app", calls);
        Assert.Contains("remove sidecar", calls);
        Assert.Empty(_runtime.Containers);
    }

    [Fact]
    public void A_sandbox_that_cannot_start_is_retried_with_a_warning_and_no_container_is_created_meanwhile()
    {
        _runtime.SandboxFailure = "No such image: orchestrator/pause:1";
        var pod = PodWithPodIpEnv();
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var warning = parent.Expect<NodeEventReported>(e => e.Event.Reason == "FailedCreatePodSandBox");
        Assert.Equal("Warning", warning.Event.Type);
        Assert.Contains("No such image", warning.Event.Message);
        Assert.Null(warning.Event.InvolvedObject.FieldPath);
        var pending = parent.Expect<PodStatusReported>(_ => true);
        Assert.Equal("Pending", pending.Status.Phase);
        Assert.Equal("False", pending.Status.Conditions.Single(c => c.Type == "PodReadyToStartContainers").Status);
        Assert.Equal("ContainerCreating", pending.Status.ContainerStatuses[0].State.Waiting.Reason);
        Assert.Equal(0, _runtime.CreateCount);

        _runtime.SandboxFailure = null;
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running", TimeSpan.FromSeconds(5));
    }
    [Fact]
    public void The_pods_containers_are_created_while_its_sandbox_starts_and_started_once_it_runs()
    {
        _runtime.SplitSandbox = true;
        var pod = PodWithPodIpEnv();
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var report = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.Equal(["create POD", "create app", "create sidecar", "start POD", "start app", "start sidecar"], _runtime.Calls.Take(6));
        Assert.Equal(Sandbox(pod).Ip, Running(pod, "app").Request!.PodIp); // the IP reserved before the start is the pod's
        Assert.Equal(Sandbox(pod).Ip, report.Status.PodIP);
        Assert.All(report.Status.ContainerStatuses, c => Assert.Equal(0, c.RestartCount));
    }

    [Fact]
    public void Containers_made_for_a_sandbox_that_fails_to_start_go_with_it_and_are_made_again_without_a_restart()
    {
        _runtime.SplitSandbox = true;
        _runtime.SandboxStartFailure = "failed to set up the pod network";
        var pod = PodWithPodIpEnv();
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var warning = parent.Expect<NodeEventReported>(e => e.Event.Reason == "FailedCreatePodSandBox");
        Assert.Contains("failed to set up the pod network", warning.Event.Message);
        var pending = parent.Expect<PodStatusReported>(_ => true);
        Assert.Equal("Pending", pending.Status.Phase);
        Assert.Equal("ContainerCreating", pending.Status.ContainerStatuses[0].State.Waiting.Reason);
        Assert.Empty(_runtime.Of(pod.Metadata.Uid));

        _runtime.SandboxStartFailure = null;
        var running = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running", TimeSpan.FromSeconds(5));
        Assert.All(running.Status.ContainerStatuses, c => Assert.Equal(0, c.RestartCount));
        Assert.Equal(["app", "sidecar"], _runtime.Of(pod.Metadata.Uid).Select(c => c.ContainerName).Order());
    }
}
