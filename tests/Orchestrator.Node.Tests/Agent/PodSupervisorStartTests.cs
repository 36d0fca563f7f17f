using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

/// <summary>Issue 19: what a new pod's start waits for on the node — the runtime's listing of what a previous agent
/// left of the pod overlaps the set-up of its volumes; a pod a node has reported on adopts first, as before.</summary>
public sealed class PodSupervisorStartTests : TestKit
{
    private readonly FakeRuntime _inner = new FakeRuntime().WithImage("web:1");

    private static readonly PodSupervisorSettings Fast = new("node-a", "10.0.0.11",
        SyncInterval: TimeSpan.FromMilliseconds(50), InitialBackOff: TimeSpan.FromMilliseconds(800), MaxBackOff: TimeSpan.FromSeconds(3));

    [Fact]
    public void A_new_pod_has_its_volumes_set_up_while_the_runtime_lists_its_containers()
    {
        var runtime = new ListWatchingRuntime(_inner);
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(TestPods.Pod("web-1"), runtime, Fast));

        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.Equal([true], runtime.ListingsSawVolumes);
    }

    [Fact]
    public void A_pod_a_node_has_reported_on_is_adopted_before_its_volumes_are_set_up()
    {
        var runtime = new ListWatchingRuntime(_inner);
        var pod = TestPods.Pod("web-1");
        pod.Status = new V1PodStatus { Phase = "Running", PodIP = "10.0.0.7", ContainerStatuses = [new V1ContainerStatus { Name = "app", Image = "web:1", ImageID = "", Ready = true }] };
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, runtime, Fast));

        parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses?[0].State.Running is not null);
        Assert.Equal([false], runtime.ListingsSawVolumes);
    }

    private sealed class ListWatchingRuntime(FakeRuntime inner) : IContainerRuntime
    {
        private readonly TaskCompletionSource _volumes = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>Whether each listing of one pod's containers saw the pod's volumes being set up (waiting a while for it).</summary>
        public readonly List<bool> ListingsSawVolumes = [];
        public Task<string> GetVersionAsync(CancellationToken ct = default) => inner.GetVersionAsync(ct);
        public Task EnsureNetworkAsync(CancellationToken ct = default) => inner.EnsureNetworkAsync(ct);
        public async Task<IReadOnlyList<RuntimeContainer>> ListContainersAsync(string? podUid = null, CancellationToken ct = default)
        {
            if (podUid is not null)
            {
                // a listing that waits for the volumes: only one made while they are set up sees them
                var saw = await _volumes.Task.WaitAsync(TimeSpan.FromSeconds(2), ct).ContinueWith(t => t.IsCompletedSuccessfully);
                lock (ListingsSawVolumes) ListingsSawVolumes.Add(saw);
            }
            return await inner.ListContainersAsync(podUid, ct);
        }
        public Task<string?> FindImageAsync(string image, CancellationToken ct = default) => inner.FindImageAsync(image, ct);
        public Task<LocalImage?> InspectImageAsync(string image, CancellationToken ct = default) => inner.InspectImageAsync(image, ct);
        public Task<LocalImage> PullImageAsync(ImagePullRequest request, CancellationToken ct = default) => inner.PullImageAsync(request, ct);
        public Task<PodSandbox> RunSandboxAsync(SandboxRequest request, CancellationToken ct = default) => inner.RunSandboxAsync(request, ct);
        public Task<string> CreateContainerAsync(ContainerRequest request, CancellationToken ct = default) => inner.CreateContainerAsync(request, ct);
        public Task StartContainerAsync(string containerId, CancellationToken ct = default) => inner.StartContainerAsync(containerId, ct);
        public Task StopContainerAsync(string containerId, TimeSpan gracePeriod, CancellationToken ct = default) => inner.StopContainerAsync(containerId, gracePeriod, ct);
        public Task RemoveContainerAsync(string containerId, CancellationToken ct = default) => inner.RemoveContainerAsync(containerId, ct);
        public Task<ContainerObservation?> InspectContainerAsync(string containerId, CancellationToken ct = default) =>
inner.InspectContainerAsync(containerId, ct);
        public Task<ExecResult> ExecAsync(string containerId, IReadOnlyList<string> command, CancellationToken ct = default) => inner.ExecAsync(containerId, command, ct);
        public Task PrepareVolumesAsync(V1Pod pod, IReadOnlyList<ProjectedVolume> projections, CancellationToken ct = default)
        {
            _volumes.TrySetResult();
            return inner.PrepareVolumesAsync(pod, projections, ct);
        }
        public Task RemovePodVolumesAsync(string podUid, CancellationToken ct = default) => inner.RemovePodVolumesAsync(podUid, ct);
        public Task<IReadOnlyList<string>> ListPodVolumeOwnersAsync(CancellationToken ct = default) => inner.ListPodVolumeOwnersAsync(ct);
        public Task StreamLogsAsync(string containerId, ContainerLogRequest request, Stream output, CancellationToken ct = default) => inner.StreamLogsAsync(containerId, request, output, ct);
        public Task<IExecSession> StartExecAsync(string containerId, ExecStart start, CancellationToken ct = default) => inner.StartExecAsync(containerId, start, ct);
        public Task<IExecSession> AttachAsync(string containerId, bool stdin, CancellationToken ct = default) => inner.AttachAsync(containerId, stdin, ct);
    }
}
