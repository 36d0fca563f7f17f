using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

/// <summary>What the kubelet reports when a container cannot be made, a volume cannot be set up, or the runtime does
/// not answer: a waiting reason, an event, never a silent hang.</summary>
public sealed class PodSupervisorFailureTests : TestKit
{
    private readonly FakeRuntime _runtime = new FakeRuntime().WithImage("web:1");

    private static readonly PodSupervisorSettings Fast = new("node-a", "10.0.0.11",
        SyncInterval: TimeSpan.FromMilliseconds(50), InitialBackOff: TimeSpan.FromMilliseconds(800), MaxBackOff: TimeSpan.FromSeconds(3));

    [Fact]
    public void A_container_whose_config_cannot_be_made_waits_in_CreateContainerConfigError_with_one_event()
    {
        const string message = "container has runAsNonRoot and image will run as root (pod: \"web-1_default(u)\", container: app)";
        _runtime.CreateFailure = _ => new ContainerConfigException(message);
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(TestPods.Pod("web-1"), _runtime, Fast));

        var failed = parent.Expect<NodeEventReported>(e => e.Event.Reason == "Failed");
        Assert.Equal(("Warning", "Error: " + message), (failed.Event.Type, failed.Event.Message));
        Assert.Equal("spec.containers{app}", failed.Event.InvolvedObject.FieldPath);
        var report = parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses?[0].State.Waiting?.Reason == "CreateContainerConfigError");
        Assert.Equal(message, report.Status.ContainerStatuses[0].State.Waiting.Message);
        Assert.Equal(0, report.Status.ContainerStatuses[0].RestartCount);

        // fixed (the image changed, say): the next sync creates it
        _runtime.CreateFailure = null;
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.Equal(1, _runtime.CreateCount);
    }

    [Fact]
    public void A_runtime_failure_while_creating_is_CreateContainerError()
    {
        _runtime.CreateFailure = _ => new RuntimeTimeoutException("create_container", TimeSpan.FromSeconds(120));
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(TestPods.Pod("web-1"), _runtime, Fast));

        var report = parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses?[0].State.Waiting?.Reason == "CreateContainerError");
        Assert.Equal("container runtime call create_container did not answer within 120s: context deadline exceeded",
            report.Status.ContainerStatuses[0].State.Waiting.Message);
    }

    [Fact]
    public void A_volume_that_cannot_be_set_up_keeps_the_pod_without_a_sandbox_with_a_FailedMount_event()
    {
        _runtime.VolumeFailure = new VolumeSetupException("logs", "hostPath /var/log/app doesn't exist");
        var parent = CreateTestProbe();
        var pod = TestPods.Pod("web-1");
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));

        var mount = parent.Expect<NodeEventReported>(e => e.Event.Reason == "FailedMount");
        Assert.Equal("MountVolume.SetUp failed for volume \"logs\" : hostPath /var/log/app doesn't exist", mount.Event.Message);
        var report = parent.Expect<PodStatusReported>(_ => true);
        Assert.Equal("Pending", report.Status.Phase);
        Assert.Equal("ContainerCreating", report.Status.ContainerStatuses[0].State.Waiting.Reason);
        Assert.Equal(0, _runtime.SandboxCount);

        _runtime.VolumeFailure = null; // the directory was made
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.Equal(1, _runtime.SandboxCount);
    }

    [Fact]
    public void A_runtime_that_stops_answering_is_reported_once_as_FailedSync()
    {
        var parent = CreateTestProbe();
        var pod = TestPods.Pod("web-1");
        var runtime = new TimingOutRuntime(_runtime);
        parent.ChildActorOf(PodSupervisor.Props(pod, runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");

        runtime.Hung = true;
        var failed = parent.Expect<NodeEventReported>(e => e.Event.Reason == "FailedSync");
        Assert.Equal("Warning", failed.Event.Type);
        Assert.Equal("error syncing pod: container runtime call container_status did not answer within 0.1s: context deadline exceeded", failed.Event.Message);
        // ten failing syncs later, still the one event
        var later = parent.ReceiveWhile(TimeSpan.FromMilliseconds(500), m => m);
        Assert.DoesNotContain(later, m => m is NodeEventReported { Event.Reason: "FailedSync" });
    }

    /// <summary>The fake, with inspections that time out while <see cref="Hung"/>.</summary>
    private sealed class TimingOutRuntime(FakeRuntime inner) : IContainerRuntime
    {
        public volatile bool Hung;
        public Task<string> GetVersionAsync(CancellationToken ct = default) => inner.GetVersionAsync(ct);
        public Task EnsureNetworkAsync(CancellationToken ct = default) => inner.EnsureNetworkAsync(ct);
        public Task<IReadOnlyList<RuntimeContainer>> ListContainersAsync(string? podUid = null, CancellationToken ct = default) => inner.ListContainersAsync(podUid, ct);
        public Task<string?> FindImageAsync(string image, CancellationToken ct = default) => inner.FindImageAsync(image, ct);
        public Task<LocalImage?> InspectImageAsync(string image, CancellationToken ct = default) => inner.InspectImageAsync(image, ct);
        public Task<LocalImage> PullImageAsync(ImagePullRequest request, CancellationToken ct = default) => inner.PullImageAsync(request, ct);
        public Task<PodSandbox> RunSandboxAsync(SandboxRequest request, CancellationToken ct = default) => inner.RunSandboxAsync(request, ct);
        public Task<string> CreateContainerAsync(ContainerRequest request, CancellationToken ct = default) => inner.CreateContainerAsync(request, ct);
        public Task StartContainerAsync(string containerId, CancellationToken ct = default) => inner.StartContainerAsync(containerId, ct);
        public Task StopContainerAsync(string containerId, TimeSpan gracePeriod, CancellationToken ct = default) => inner.StopContainerAsync(containerId, gracePeriod, ct);
        public Task RemoveContainerAsync(string containerId, CancellationToken ct = default) => inner.RemoveContainerAsync(containerId, ct);
        public Task<ContainerObservation?> InspectContainerAsync(string containerId, CancellationToken ct = default) =>
            Hung ? Task.FromException<ContainerObservation?>(new RuntimeTimeoutException("container_status", TimeSpan.FromMilliseconds(100)))
                 : inner.InspectContainerAsync(containerId, ct);
        public Task<ExecResult> ExecAsync(string containerId, IReadOnlyList<string> command, CancellationToken ct = default) => inner.ExecAsync(containerId, command, ct);
        public Task PrepareVolumesAsync(V1Pod pod, IReadOnlyList<ProjectedVolume> projections, CancellationToken ct = default) => inner.PrepareVolumesAsync(pod, projections, ct);
        public Task RemovePodVolumesAsync(string podUid, CancellationToken ct = default) => inner.RemovePodVolumesAsync(podUid, ct);
        public Task<IReadOnlyList<string>> ListPodVolumeOwnersAsync(CancellationToken ct = default) => inner.ListPodVolumeOwnersAsync(ct);
        public Task StreamLogsAsync(string containerId, ContainerLogRequest request, Stream output, CancellationToken ct = default) => inner.StreamLogsAsync(containerId, request, output, ct);
        public Task<IExecSession> StartExecAsync(string containerId, ExecStart start, CancellationToken ct = default) => inner.StartExecAsync(containerId, start, ct);
        public Task<IExecSession> AttachAsync(string containerId, bool stdin, CancellationToken ct = default) => inner.AttachAsync(containerId, stdin, ct);
    }
}
