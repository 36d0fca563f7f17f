using Orchestrator.Node.Diagnostics;

namespace Orchestrator.Node.Runtime;

/// <summary>How long each kind of runtime call may take, and how many may be under way or waiting.</summary>
/// <param name="Request">Every call's deadline (the kubelet's <c>--runtime-request-timeout</c>, 2 min); a stop gets the
/// container's grace period on top. Streams (logs, an attached exec) have no deadline once they are open.</param>
/// <param name="Concurrent">Calls under way at once.</param>
/// <param name="Queued">Calls waiting for a place; one more fails at once as <see cref="RuntimeBusyException"/>.</param>
internal sealed record RuntimeLimits(TimeSpan Request, int Concurrent = 16, int Queued = 256)
{
    public static RuntimeLimits Default { get; } = new(TimeSpan.FromMinutes(2));
}

/// <summary>A runtime call that did not answer within its deadline (Docker hung or is overloaded).</summary>
internal sealed class RuntimeTimeoutException(string operation, TimeSpan timeout)
    : TimeoutException($"container runtime call {operation} did not answer within {timeout.TotalSeconds:0.#}s: context deadline exceeded");

/// <summary>Too many runtime calls are waiting already: this one is refused rather than queued without end.</summary>
internal sealed class RuntimeBusyException(string operation, int queued)
    : InvalidOperationException($"container runtime call {operation} refused: the runtime's queue is full ({queued} calls waiting)");

/// <summary>
/// The container runtime with a deadline on every call and a bounded queue (the kubelet's runtime request timeout): a
/// hung Docker engine costs the caller <see cref="RuntimeLimits.Request"/>, never a hang, and a flood of callers fails
/// fast instead of piling up. The deadline is the token the inner runtime passes to each Docker call; a call that ignores
/// it is abandoned when it fires. Timeouts surface as <see cref="RuntimeTimeoutException"/> for the caller to report.
/// </summary>
internal sealed class BoundedRuntime(IContainerRuntime inner, RuntimeLimits limits) : IContainerRuntime
{
    private readonly SemaphoreSlim _slots = new(limits.Concurrent, limits.Concurrent);
    private int _waiting;

    private Task<T> Call<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken ct, TimeSpan? extra = null) =>
        CallAsync(operation, limits.Request + (extra ?? TimeSpan.Zero), call, ct);

    private Task Call(string operation, Func<CancellationToken, Task> call, CancellationToken ct, TimeSpan? extra = null) =>
        CallAsync(operation, limits.Request + (extra ?? TimeSpan.Zero), async token => { await call(token); return true; }, ct);

    private async Task<T> CallAsync<T>(string operation, TimeSpan timeout, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        var waiting = Interlocked.Increment(ref _waiting);
        if (waiting > limits.Queued)
        {
            Interlocked.Decrement(ref _waiting);
            NodeMetrics.RuntimeRefused(operation);
            throw new RuntimeBusyException(operation, waiting - 1);
        }
        using var deadline = new CancellationTokenSource(timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            try { await _slots.WaitAsync(linked.Token); }
            finally { Interlocked.Decrement(ref _waiting); }
            try
            {
                return await call(linked.Token).WaitAsync(linked.Token);
            }
            finally { _slots.Release(); }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            NodeMetrics.RuntimeTimedOut(operation);
            throw new RuntimeTimeoutException(operation, timeout);
        }
    }

    public Task<string> GetVersionAsync(CancellationToken ct = default) => Call("version", inner.GetVersionAsync, ct);

    public Task EnsureNetworkAsync(CancellationToken ct = default) => Call("ensure_network", inner.EnsureNetworkAsync, ct);

    public Task<IReadOnlyList<RuntimeContainer>> ListContainersAsync(string? podUid = null, CancellationToken ct = default) =>
        Call("list_containers", t => inner.ListContainersAsync(podUid, t), ct);

    public Task<string?> FindImageAsync(string image, CancellationToken ct = default) => Call("image_status", t => inner.FindImageAsync(image, t), ct);

    public Task<LocalImage?> InspectImageAsync(string image, CancellationToken ct = default) =>
        Call("image_status", t => inner.InspectImageAsync(image, t), ct);

    /// <summary>A pull has no deadline of its own, as the kubelet's: a large image on a slow link takes what it takes
    /// (an hour at most); the caller may cancel it.</summary>
    public Task<LocalImage> PullImageAsync(ImagePullRequest request, CancellationToken ct = default) =>
        Call("pull_image", t => inner.PullImageAsync(request, t), ct, extra: TimeSpan.FromHours(1));

    public Task<PodSandbox> RunSandboxAsync(SandboxRequest request, CancellationToken ct = default) =>
        Call("run_podsandbox", t => inner.RunSandboxAsync(request, t), ct);

    public Task<PodSandbox> CreateSandboxAsync(SandboxRequest request, CancellationToken ct = default) =>
        Call("create_podsandbox", t => inner.CreateSandboxAsync(request, t), ct);

    public Task<PodSandbox> StartSandboxAsync(PodSandbox created, CancellationToken ct = default) =>
        Call("start_podsandbox", t => inner.StartSandboxAsync(created, t), ct);

    public Task<string> CreateContainerAsync(ContainerRequest request, CancellationToken ct = default) =>
        Call("create_container", t => inner.CreateContainerAsync(request, t), ct);

    public Task StartContainerAsync(string containerId, CancellationToken ct = default) =>
        Call("start_container", t => inner.StartContainerAsync(containerId, t), ct);

    public Task StopContainerAsync(string containerId, TimeSpan gracePeriod, CancellationToken ct = default) =>
        Call("stop_container", t => inner.StopContainerAsync(containerId, gracePeriod, t), ct, extra: gracePeriod);

    public Task RemoveContainerAsync(string containerId, CancellationToken ct = default) =>
        Call("remove_container", t => inner.RemoveContainerAsync(containerId, t), ct);

    public Task<ContainerObservation?> InspectContainerAsync(string containerId, CancellationToken ct = default) =>
        Call("container_status", t => inner.InspectContainerAsync(containerId, t), ct);

    public Task<ExecResult> ExecAsync(string containerId, IReadOnlyList<string> command, CancellationToken ct = default) =>
        Call("exec_sync", t => inner.ExecAsync(containerId, command, t), ct);

    public Task RemovePodVolumesAsync(string podUid, CancellationToken ct = default) =>
        Call("remove_volumes", t => inner.RemovePodVolumesAsync(podUid, t), ct);

    public Task<IReadOnlyList<string>> ListPodVolumeOwnersAsync(CancellationToken ct = default) =>
        Call("list_volumes", inner.ListPodVolumeOwnersAsync, ct);

    public Task PrepareVolumesAsync(k8s.Models.V1Pod pod, IReadOnlyList<ProjectedVolume> projections, CancellationToken ct = default) =>
        Call("prepare_volumes", t => inner.PrepareVolumesAsync(pod, projections, t), ct);

    /// <summary>Opening the stream has the deadline (the container's inspection); the copy lasts as long as the reader.</summary>
    public Task StreamLogsAsync(string containerId, ContainerLogRequest request, Stream output, CancellationToken ct = default) =>
        inner.StreamLogsAsync(containerId, request, output, ct);

    public Task<IExecSession> StartExecAsync(string containerId, ExecStart start, CancellationToken ct = default) =>
        Call("exec", t => inner.StartExecAsync(containerId, start, t), ct);

    public Task<IExecSession> AttachAsync(string containerId, bool stdin, CancellationToken ct = default) =>
        Call("attach", t => inner.AttachAsync(containerId, stdin, t), ct);
}
