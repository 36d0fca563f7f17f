using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Tests.Runtime;

/// <summary>Every runtime call has a deadline and the queue of calls a bound: a hung engine is a timeout, not a hang.</summary>
public sealed class BoundedRuntimeTests
{
    /// <summary>An engine that never answers, whatever the token says.</summary>
    private sealed class HungRuntime : IContainerRuntime
    {
        private static Task<T> Never<T>() => new TaskCompletionSource<T>().Task;
        public Task<string> GetVersionAsync(CancellationToken ct = default) => Never<string>();
        public Task EnsureNetworkAsync(CancellationToken ct = default) => Never<bool>();
        public Task<IReadOnlyList<RuntimeContainer>> ListContainersAsync(string? podUid = null, CancellationToken ct = default) => Never<IReadOnlyList<RuntimeContainer>>();
        public Task<string?> FindImageAsync(string image, CancellationToken ct = default) => Never<string?>();
        public Task<LocalImage?> InspectImageAsync(string image, CancellationToken ct = default) => Never<LocalImage?>();
        public Task<LocalImage> PullImageAsync(ImagePullRequest request, CancellationToken ct = default) => Never<LocalImage>();
        public Task<PodSandbox> RunSandboxAsync(SandboxRequest request, CancellationToken ct = default) => Never<PodSandbox>();
        public Task<string> CreateContainerAsync(ContainerRequest request, CancellationToken ct = default) => Never<string>();
        public Task StartContainerAsync(string containerId, CancellationToken ct = default) => Never<bool>();
        public Task StopContainerAsync(string containerId, TimeSpan gracePeriod, CancellationToken ct = default) => Never<bool>();
        public Task RemoveContainerAsync(string containerId, CancellationToken ct = default) => Never<bool>();
        public Task<ContainerObservation?> InspectContainerAsync(string containerId, CancellationToken ct = default) => Never<ContainerObservation?>();
        public Task<ExecResult> ExecAsync(string containerId, IReadOnlyList<string> command, CancellationToken ct = default) => Never<ExecResult>();
        public Task PrepareVolumesAsync(k8s.Models.V1Pod pod, IReadOnlyList<ProjectedVolume> projections, CancellationToken ct = default) => Never<bool>();
        public Task RemovePodVolumesAsync(string podUid, CancellationToken ct = default) => Never<bool>();
        public Task<IReadOnlyList<string>> ListPodVolumeOwnersAsync(CancellationToken ct = default) => Never<IReadOnlyList<string>>();
        public Task StreamLogsAsync(string containerId, ContainerLogRequest request, Stream output, CancellationToken ct = default) => Never<bool>();
        public Task<IExecSession> StartExecAsync(string containerId, ExecStart start, CancellationToken ct = default) => Never<IExecSession>();
        public Task<IExecSession> AttachAsync(string containerId, bool stdin, CancellationToken ct = default) => Never<IExecSession>();
    }

    [Fact]
    public async Task A_call_the_engine_never_answers_fails_as_a_timeout_naming_the_call()
    {
        var runtime = new BoundedRuntime(new HungRuntime(), new RuntimeLimits(TimeSpan.FromMilliseconds(200)));

        var timeout = await Assert.ThrowsAsync<RuntimeTimeoutException>(() => runtime.InspectContainerAsync("c1"));

        Assert.Equal("container runtime call container_status did not answer within 0.2s: context deadline exceeded", timeout.Message);
    }

    [Fact]
    public async Task A_stop_may_take_the_grace_period_on_top_of_the_deadline()
    {
        var runtime = new BoundedRuntime(new HungRuntime(), new RuntimeLimits(TimeSpan.FromMilliseconds(100)));

        var timeout = await Assert.ThrowsAsync<RuntimeTimeoutException>(() => runtime.StopContainerAsync("c1", TimeSpan.FromMilliseconds(200)));

        Assert.Contains("stop_container did not answer within 0.3s", timeout.Message);
    }

    [Fact]
    public async Task Past_the_queue_bound_a_call_is_refused_at_once()
    {
        var runtime = new BoundedRuntime(new HungRuntime(), new RuntimeLimits(TimeSpan.FromMinutes(5), Concurrent: 1, Queued: 1));
        using var stop = new CancellationTokenSource();
        var running = runtime.ListContainersAsync(ct: stop.Token);
        var waiting = runtime.ListContainersAsync(ct: stop.Token);

        var busy = await Assert.ThrowsAsync<RuntimeBusyException>(() => runtime.ListContainersAsync());

        Assert.Equal("container runtime call list_containers refused: the runtime's queue is full (1 calls waiting)", busy.Message);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        // the places are free again
        await Assert.ThrowsAsync<RuntimeTimeoutException>(() =>
            new BoundedRuntime(new HungRuntime(), new RuntimeLimits(TimeSpan.FromMilliseconds(50), 1, 1)).ListContainersAsync());
    }

    [Fact]
    public async Task A_caller_that_gives_up_gets_a_cancellation_not_a_timeout()
    {
        var runtime = new BoundedRuntime(new HungRuntime(), new RuntimeLimits(TimeSpan.FromMinutes(5)));
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runtime.GetVersionAsync(caller.Token));

        Assert.IsNotType<RuntimeTimeoutException>(cancelled);
    }
}
