using Akka.Actor;
using Akka.TestKit.Xunit2;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

public sealed class PodSupervisorTests : TestKit
{
    private readonly FakeRuntime _runtime = new FakeRuntime().WithImage("web:1");

    private static readonly PodSupervisorSettings Fast = new("node-a", "127.0.0.1",
        SyncInterval: TimeSpan.FromMilliseconds(50), InitialBackOff: TimeSpan.FromMilliseconds(800),
        MaxBackOff: TimeSpan.FromSeconds(3));

    // A back-off window far longer than a sync (50 ms), so that the supervisor sees the crash inside it and reports
    // CrashLoopBackOff even when a loaded machine delays a sync by seconds (with 800 ms the report could be skipped:
    // the first sync after the crash already fell after the window).
    private static readonly PodSupervisorSettings LongBackOff = Fast with
    {
        InitialBackOff = TimeSpan.FromSeconds(4), MaxBackOff = TimeSpan.FromSeconds(8),
    };

    [Fact]
    public void Creates_and_starts_the_containers_and_reports_a_running_ready_pod()
    {
        var parent = CreateTestProbe();
        var pod = TestPods.Pod("web-1", containers: ["app", "sidecar"]);
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var report = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running" && r.Status.ContainerStatuses.All(c => c.Ready == true));
        Assert.Equal(("node-a", "default", "web-1", pod.Metadata.Uid), (report.NodeName, report.Namespace, report.Name, report.Uid));
        Assert.Equal(2, _runtime.Of(pod.Metadata.Uid).Count(c => c.Running));
        Assert.StartsWith("10.99.0.", report.Status.PodIP);
        Assert.Equal("127.0.0.1", report.Status.HostIP);
        Assert.Equal("True", report.Status.Conditions.Single(c => c.Type == "Ready").Status);
        Assert.All(report.Status.ContainerStatuses, c =>
        {
            Assert.StartsWith("docker://c", c.ContainerID);
            Assert.NotNull(c.State.Running?.StartedAt);
        });
    }

    [Fact]
    public void Reports_kubelet_events_pulled_created_started()
    {
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(TestPods.Pod("web-1"), _runtime, Fast));

        var reasons = new List<string>();
        parent.Expect<NodeEventReported>(e => { reasons.Add(e.Event.Reason); return e.Event.Reason == "Started"; });
        Assert.Equal(["Pulled", "Created", "Started"], reasons);
    }

    [Fact]
    public void A_missing_image_is_ErrImagePull_with_a_warning_event_and_no_container()
    {
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(TestPods.Pod("web-1", image: "absent:2"), _runtime, Fast));

        var warning = parent.Expect<NodeEventReported>(e => e.Event.Type == "Warning");
        Assert.Equal("Failed", warning.Event.Reason);
        Assert.Contains("Failed to pull image \"absent:2\"", warning.Event.Message);
        Assert.Equal("kubelet", warning.Event.Source.Component);
        Assert.Equal("node-a", warning.Event.Source.Host);
        var report = parent.Expect<PodStatusReported>(_ => true);
        Assert.Equal("Pending", report.Status.Phase);
        Assert.Equal("ErrImagePull", report.Status.ContainerStatuses.Single().State.Waiting.Reason);
        Assert.Equal(0, _runtime.CreateCount);
    }

    [Fact]
    public void An_exited_container_is_restarted_then_backs_off_as_CrashLoopBackOff()
    {
        var parent = CreateTestProbe();
        var pod = TestPods.Pod("web-1");
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, LongBackOff));
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");

        // first crash: restarted at once
        _runtime.Exit(_runtime.Of(pod.Metadata.Uid).Single(c => c.Running).Id, 1);
        var restarted = parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].RestartCount == 1 && r.Status.ContainerStatuses[0].State.Running != null);
        Assert.Equal(1, restarted.Status.ContainerStatuses[0].LastState.Terminated.ExitCode);
        Assert.Equal("Error", restarted.Status.ContainerStatuses[0].LastState.Terminated.Reason);

        // second crash: waits out the back-off before restarting
        var crashedAt = DateTime.UtcNow;
        _runtime.Exit(_runtime.Of(pod.Metadata.Uid).Single(c => c.Running).Id, 2);
        var waiting = parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].State.Waiting?.Reason == "CrashLoopBackOff", TimeSpan.FromSeconds(10));
        Assert.Equal("Running", waiting.Status.Phase);
        Assert.Equal("False", waiting.Status.Conditions.Single(c => c.Type == "Ready").Status);
        Assert.DoesNotContain(_runtime.Of(pod.Metadata.Uid), c => c.Running);
        Assert.Single(_runtime.Of(pod.Metadata.Uid)); // only the last exited instance stays, for logs --previous
        parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].RestartCount == 2 && r.Status.ContainerStatuses[0].State.Running != null, TimeSpan.FromSeconds(15));
        Assert.True(DateTime.UtcNow - crashedAt >= TimeSpan.FromMilliseconds(3900), "restarted before the back-off elapsed");
        Assert.Equal("2", _runtime.Of(pod.Metadata.Uid).Single(c => c.Running).Request!.RestartCount.ToString());
    }

    [Fact]
    public void Back_off_doubles_and_is_announced_by_a_BackOff_event()
    {
        var parent = CreateTestProbe();
        var pod = TestPods.Pod("web-1");
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        for (var restart = 1; restart <= 3; restart++)
        {
            parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].State.Running != null, TimeSpan.FromSeconds(5));
            _runtime.Exit(_runtime.Of(pod.Metadata.Uid).Single(c => c.Running).Id, 1);
        }
        // after the third crash the delay is 2 × 800 ms
        var backOff = parent.Expect<NodeEventReported>(e => e.Event.Reason == "BackOff");
        Assert.Equal("Warning", backOff.Event.Type);
        Assert.Equal("spec.containers{app}", backOff.Event.InvolvedObject.FieldPath);
        var waiting = parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].State.Waiting?.Reason == "CrashLoopBackOff");
        Assert.Contains("back-off 2s", waiting.Status.ContainerStatuses[0].State.Waiting.Message);
    }

    [Fact]
    public void With_restartPolicy_Never_a_successful_container_makes_the_pod_Succeeded()
    {
        var parent = CreateTestProbe();
        var pod = TestPods.Pod("job-1", restartPolicy: "Never");
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");

        _runtime.Exit(_runtime.Of(pod.Metadata.Uid).Single(c => c.Running).Id, 0);
        var done = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Succeeded");
        Assert.Equal("Completed", done.Status.ContainerStatuses[0].State.Terminated.Reason);
        Assert.Equal(1, _runtime.CreateCount);
    }

    [Fact]
    public void OnFailure_restarts_a_failed_container_but_not_a_successful_one()
    {
        var parent = CreateTestProbe();
        var pod = TestPods.Pod("job-1", restartPolicy: "OnFailure");
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        _runtime.Exit(_runtime.Of(pod.Metadata.Uid).Single(c => c.Running).Id, 3);
        parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].RestartCount == 1 && r.Status.ContainerStatuses[0].State.Running != null);

        _runtime.Exit(_runtime.Of(pod.Metadata.Uid).Single(c => c.Running).Id, 0);
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Succeeded");
        Assert.Equal(2, _runtime.CreateCount);
    }

    [Fact]
    public void Adopts_the_running_container_of_its_pod_instead_of_creating_one_and_removes_duplicates()
    {
        var pod = TestPods.Pod("web-1");
        var sandbox = _runtime.SeedSandbox(pod.Metadata.Uid, "web-1");
        var kept = _runtime.Seed(pod.Metadata.Uid, "web-1", "app", running: true, restartCount: 4, sandboxId: sandbox.Id);
        var previous = _runtime.Seed(pod.Metadata.Uid, "web-1", "app", running: false, sandboxId: sandbox.Id);
        var duplicate = _runtime.Seed(pod.Metadata.Uid, "web-1", "app", running: false, sandboxId: sandbox.Id) with { CreatedAt = DateTime.UtcNow.AddHours(-1) };
        _runtime.Containers[duplicate.Id] = duplicate;
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var report = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.Equal($"docker://{kept.Id}", report.Status.ContainerStatuses[0].ContainerID);
        Assert.Equal(4, report.Status.ContainerStatuses[0].RestartCount);
        Assert.Equal(sandbox.Ip, report.Status.PodIP);
        Assert.Equal(0, _runtime.CreateCount);
        Assert.Equal(0, _runtime.SandboxCount);
        AwaitCondition(() => !_runtime.Containers.ContainsKey(duplicate.Id));
        Assert.True(_runtime.Containers.ContainsKey(previous.Id), "the newest exited instance stays as the previous one");
    }

    [Fact]
    public void Stopping_a_pod_stops_with_its_grace_period_removes_its_containers_and_ends_the_supervisor()
    {
        var parent = CreateTestProbe();
        var pod = TestPods.Pod("web-1");
        var supervisor = parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        var container = _runtime.Of(pod.Metadata.Uid).Single();
        Watch(supervisor);

        supervisor.Tell(new StopPod(ReportFinalStatus: true));
        var final = parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].State.Terminated != null);
        Assert.Equal(143, final.Status.ContainerStatuses[0].State.Terminated.ExitCode);
        ExpectTerminated(supervisor);
        Assert.Equal(TimeSpan.FromSeconds(5), container.StopGrace);
        Assert.Empty(_runtime.Of(pod.Metadata.Uid));
    }

    [Fact]
    public void An_unchanged_pod_is_reported_once()
    {
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(TestPods.Pod("web-1"), _runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        // ten more syncs happen in this window; none may report again
        parent.Within(TimeSpan.FromMilliseconds(600), () =>
        {
            var extra = parent.ReceiveWhile<object>(TimeSpan.FromMilliseconds(500), m => m);
            Assert.DoesNotContain(extra, m => m is PodStatusReported);
        });
    }
}
