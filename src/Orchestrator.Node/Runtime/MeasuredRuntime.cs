using System.Collections.Concurrent;
using System.Diagnostics;
using Orchestrator.Node.Diagnostics;

namespace Orchestrator.Node.Runtime;

/// <summary>The container runtime with every operation timed and its failures counted (the kubelet's
/// instrumented runtime service): <c>kubelet_runtime_operations_duration_seconds{operation_type}</c>.</summary>
internal sealed class MeasuredRuntime(IContainerRuntime inner) : IContainerRuntime
{
    private const string RunPodSandbox = "run_podsandbox";

    /// <summary>Sandboxes created and not yet started, with the Stopwatch timestamp their create began.</summary>
    private readonly ConcurrentDictionary<string, long> _sandboxesStarting = new();

    public Task<string> GetVersionAsync(CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("version", () => inner.GetVersionAsync(ct));

    public Task EnsureNetworkAsync(CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("ensure_network", () => inner.EnsureNetworkAsync(ct));

    public Task<IReadOnlyList<RuntimeContainer>> ListContainersAsync(string? podUid = null, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("list_containers", () => inner.ListContainersAsync(podUid, ct));

    public Task<string?> FindImageAsync(string image, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("image_status", () => inner.FindImageAsync(image, ct));

    public Task<LocalImage?> InspectImageAsync(string image, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("image_status", () => inner.InspectImageAsync(image, ct));

    public Task<LocalImage> PullImageAsync(ImagePullRequest request, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("pull_image", () => inner.PullImageAsync(request, ct));

    public Task<PodSandbox> RunSandboxAsync(SandboxRequest request, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation(RunPodSandbox, () => inner.RunSandboxAsync(request, ct));

    // The sandbox is made in two steps so the pod's containers can be created while it starts; the kubelet's metric
    // knows one operation, run_podsandbox, timed here from the create's start to the start's end.
    public async Task<PodSandbox> CreateSandboxAsync(SandboxRequest request, CancellationToken ct = default)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var created = await inner.CreateSandboxAsync(request, ct);
            _sandboxesStarting[created.Id] = started;
            return created;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            NodeMetrics.RuntimeOperationFailed(RunPodSandbox, started);
            throw;
        }
    }

    public Task<PodSandbox> StartSandboxAsync(PodSandbox created, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation(RunPodSandbox, () => inner.StartSandboxAsync(created, ct),
            _sandboxesStarting.TryRemove(created.Id, out var started) ? started : Stopwatch.GetTimestamp());

    public Task<string> CreateContainerAsync(ContainerRequest request, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("create_container", () => inner.CreateContainerAsync(request, ct));

    public Task StartContainerAsync(string containerId, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("start_container", () => inner.StartContainerAsync(containerId, ct));

    public Task StopContainerAsync(string containerId, TimeSpan gracePeriod, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("stop_container", () => inner.StopContainerAsync(containerId, gracePeriod, ct));

    public Task RemoveContainerAsync(string containerId, CancellationToken ct = default)
    {
        _sandboxesStarting.TryRemove(containerId, out _); // a sandbox removed before it was started
        return NodeMetrics.RuntimeOperation("remove_container", () => inner.RemoveContainerAsync(containerId, ct));
    }

    public Task<ContainerObservation?> InspectContainerAsync(string containerId, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("container_status", () => inner.InspectContainerAsync(containerId, ct));

    public Task<ExecResult> ExecAsync(string containerId, IReadOnlyList<string> command, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("exec_sync", () => inner.ExecAsync(containerId, command, ct));

    public Task<IReadOnlyList<string>> ListPodVolumeOwnersAsync(CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("list_volumes", () => inner.ListPodVolumeOwnersAsync(ct));

    public Task PrepareVolumesAsync(k8s.Models.V1Pod pod, IReadOnlyList<ProjectedVolume> projections, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("prepare_volumes", () => inner.PrepareVolumesAsync(pod, projections, ct));

    public Task RemovePodVolumesAsync(string podUid, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("remove_volumes", () => inner.RemovePodVolumesAsync(podUid, ct));

    // streams last as long as the client reads: not timed, like the kubelet's streaming calls
    public Task StreamLogsAsync(string containerId, ContainerLogRequest request, Stream output, CancellationToken ct = default) =>
        inner.StreamLogsAsync(containerId, request, output, ct);

    public Task<IExecSession> StartExecAsync(string containerId, ExecStart start, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("exec", () => inner.StartExecAsync(containerId, start, ct));

    public Task<IExecSession> AttachAsync(string containerId, bool stdin, CancellationToken ct = default) =>
        NodeMetrics.RuntimeOperation("attach", () => inner.AttachAsync(containerId, stdin, ct));
}
