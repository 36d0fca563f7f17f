using System.Collections.Concurrent;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Tests.Runtime;

/// <summary>An in-memory container engine: containers start instantly and run until a test makes them exit.</summary>
internal sealed class FakeRuntime : IContainerRuntime
{
    private int _nextId;
    private readonly ConcurrentDictionary<string, string> _images = new();

    public ConcurrentDictionary<string, FakeContainer> Containers { get; } = new();
    public int CreateCount;
    public int RemoveCount;
    public bool Available = true;

    /// <summary>The engine is stopped (dockerd gone): every call the node makes to it fails, as a connection to its
    /// socket does, and is counted in <see cref="CallsWhileStopped"/>.</summary>
    public volatile bool Stopped;
    public int CallsWhileStopped;

    private bool Refused<T>(out Task<T> failed)
    {
        failed = null!;
        if (!Stopped) return false;
        Interlocked.Increment(ref CallsWhileStopped);
        failed = Task.FromException<T>(new IOException("cannot connect to the Docker engine at unix:///fake.sock: Connection refused"));
        return true;
    }

    private bool Refused(out Task failed)
    {
        var refused = Refused<bool>(out var typed);
        failed = typed;
        return refused;
    }

    /// <summary>The engine is frozen (dockerd stopped by SIGSTOP): the calls below wait, without an answer, until
    /// <see cref="Thaw"/> or their caller's cancellation; its containers keep running. Counted in <see cref="CallsWhileFrozen"/>.</summary>
    private volatile TaskCompletionSource? _frozen;
    public int CallsWhileFrozen;

    public void Freeze() => _frozen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The engine runs again: each waiting call is answered as it would have been.</summary>
    public void Thaw()
    {
        var frozen = _frozen;
        _frozen = null;
        frozen?.TrySetResult();
    }

    private Task<T> Gated<T>(Func<Task<T>> call, CancellationToken ct)
    {
        if (_frozen is not { } gate) return call();
        Interlocked.Increment(ref CallsWhileFrozen);
        async Task<T> AfterThaw()
        {
            await gate.Task.WaitAsync(ct);
            return await call();
        }
        return AfterThaw();
    }

    private Task Gated(Func<Task> call, CancellationToken ct) => Gated(async () => { await call(); return true; }, ct);

    /// <summary>The engine stops as dockerd without live-restore does: every container is stopped (SIGTERM, exit 143) and
    /// the engine answers no more until <see cref="Start"/>.</summary>
    public void StopEngine()
    {
        foreach (var c in Containers.Values.Where(c => c.Running)) Exit(c.Id, 143);
        Stopped = true;
        Available = false;
    }

    /// <summary>The engine answers again; its containers stay stopped (no restart policy of Docker's own).</summary>
    public void StartEngine()
    {
        Stopped = false;
        Available = true;
    }

    /// <summary>A local image; with <paramref name="digest"/> ("repo@sha256:…") one pulled from or pushed to that repository.</summary>
    public FakeRuntime WithImage(string image, string? digest = null)
    {
        _images[DockerRuntime.WithDefaultTag(image)] = NewImageId();
        if (digest is not null) _digests[DockerRuntime.WithDefaultTag(image)] = digest;
        return this;
    }

    private readonly ConcurrentDictionary<string, string> _registry = new();
    private readonly ConcurrentDictionary<string, string> _digests = new();
    public int PullCount;
    /// <summary>Pulls wait for it while set.</summary>
    public TaskCompletionSource? PullGate;
    public ConcurrentQueue<ImagePullRequest> Pulls { get; } = new();

    /// <summary>The image can be pulled (a new id each call: a pushed update of the tag).</summary>
    public FakeRuntime InRegistry(string image)
    {
        _registry[DockerRuntime.WithDefaultTag(image)] = NewImageId();
        return this;
    }

    public string? LocalImageId(string image) => _images.GetValueOrDefault(DockerRuntime.WithDefaultTag(image));

    private static string NewImageId() => "sha256:" + Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant() + new string('0', 32);

    public Task<LocalImage?> InspectImageAsync(string image, CancellationToken ct = default)
    {
        if (Refused<LocalImage?>(out var refused)) return refused;
        var key = DockerRuntime.WithDefaultTag(image);
        return Task.FromResult(_images.TryGetValue(key, out var id)
            ? new LocalImage(id, 1234, _digests.TryGetValue(key, out var digest) ? [digest] : [])
            : null);
    }

    public async Task<LocalImage> PullImageAsync(ImagePullRequest request, CancellationToken ct = default)
    {
        Interlocked.Increment(ref PullCount);
        Pulls.Enqueue(request);
        if (PullGate is { } gate) await gate.Task.WaitAsync(ct);
        var key = DockerRuntime.WithDefaultTag(request.Image);
        var named = key.Split('@')[0];
        var repository = named.LastIndexOf(':') > named.LastIndexOf('/') ? named[..named.LastIndexOf(':')] : named;
        if (!_registry.TryGetValue(key, out var id))
            throw new ImagePullException($"Error response from daemon: pull access denied for {repository}, repository does not exist or may require 'docker login'");
        _images[key] = id;
        _digests[key] = $"{repository}@sha256:{id[7..71]}";
        return (await InspectImageAsync(request.Image, ct))!;
    }

    /// <summary>A container left behind by an earlier agent.</summary>
    public FakeContainer Seed(string podUid, string podName, string containerName, bool running = true, int restartCount = 0, string ns = "default",
        string? sandboxId = null)
    {
        var c = new FakeContainer(NextId(), podUid, podName, ns, containerName, "sha256:seeded", restartCount)
        {
            Running = running,
            StartedAt = DateTime.UtcNow.AddMinutes(-1),
            FinishedAt = running ? null : DateTime.UtcNow,
            SandboxId = sandboxId,
        };
        Containers[c.Id] = c;
        return c;
    }

    /// <summary>A pod sandbox left behind by an earlier agent.</summary>
    public FakeContainer SeedSandbox(string podUid, string podName, bool running = true, int attempt = 0, string ns = "default")
    {
        var c = new FakeContainer(NextId(), podUid, podName, ns, ContainerLabels.SandboxContainerName, "sha256:pause", attempt)
        {
            IsSandbox = true,
            Running = running,
            StartedAt = DateTime.UtcNow.AddMinutes(-1),
            FinishedAt = running ? null : DateTime.UtcNow,
            Ip = NextIp(),
        };
        Containers[c.Id] = c;
        return c;
    }

    /// <summary>The process in the container ends with <paramref name="exitCode"/>.</summary>
    public void Exit(string id, int exitCode)
    {
        var c = Containers[id];
        c.ExitCode = exitCode;
        c.FinishedAt = DateTime.UtcNow;
        c.Running = false;
    }

    /// <summary>The pod's own containers (not its sandbox).</summary>
    public IEnumerable<FakeContainer> Of(string podUid) => Containers.Values.Where(c => c.PodUid == podUid && !c.IsSandbox);

    public IEnumerable<FakeContainer> SandboxesOf(string podUid) => Containers.Values.Where(c => c.PodUid == podUid && c.IsSandbox);

    public int SandboxCount;

    /// <summary>When set, starting a sandbox fails with this message (e.g. the pause image is missing).</summary>
    public string? SandboxFailure { get; set; }

    /// <summary>Sandboxes are made in two steps as on Docker ("create POD", then "start POD"), and a container joining a
    /// sandbox that does not run cannot start; otherwise a sandbox runs at once ("run POD").</summary>
    public bool SplitSandbox { get; set; }

    /// <summary>When set with <see cref="SplitSandbox"/>, a sandbox's start fails with this message (it is removed).</summary>
    public string? SandboxStartFailure { get; set; }

    /// <summary>Every sandbox run, container create, stop and remove, in order: "run POD", "create app", "stop app", "remove POD" ….</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    private void Call(string verb, string id)
    {
        if (Containers.TryGetValue(id, out var c)) Calls.Enqueue($"{verb} {c.ContainerName}");
    }

    public Task<string> GetVersionAsync(CancellationToken ct = default) => Gated(() =>
        Refused<string>(out var refused) ? refused : Available ? Task.FromResult("docker://fake") : Task.FromException<string>(new InvalidOperationException("runtime down")), ct);

    public Task EnsureNetworkAsync(CancellationToken ct = default) => Gated(() => Refused(out var refused) ? refused : Task.CompletedTask, ct);

    public Task<IReadOnlyList<RuntimeContainer>> ListContainersAsync(string? podUid = null, CancellationToken ct = default) => Gated(() =>
        Refused<IReadOnlyList<RuntimeContainer>>(out var refused) ? refused : Task.FromResult<IReadOnlyList<RuntimeContainer>>(Containers.Values
            .Where(c => podUid is null || c.PodUid == podUid)
            .Select(c => new RuntimeContainer(c.Id, c.PodUid, c.PodName, c.Namespace, c.ContainerName, c.RestartCount, c.Running, c.CreatedAt)
            {
                IsSandbox = c.IsSandbox,
                SandboxId = c.SandboxId,
            })
            .ToList()), ct);

    public Task<PodSandbox> RunSandboxAsync(SandboxRequest r, CancellationToken ct = default)
    {
        if (Refused<PodSandbox>(out var refused)) return refused;
        if (SandboxFailure is { } failure) return Task.FromException<PodSandbox>(new InvalidOperationException(failure));
        Interlocked.Increment(ref SandboxCount);
        var c = new FakeContainer(NextId(), r.Pod.Metadata.Uid, r.Pod.Metadata.Name, r.Pod.Metadata.NamespaceProperty ?? "default",
            ContainerLabels.SandboxContainerName, "sha256:pause", r.Attempt)
        {
            IsSandbox = true,
            Running = true,
            StartedAt = DateTime.UtcNow,
            Ip = NextIp(),
        };
        Containers[c.Id] = c;
        Call("run", c.Id);
        return Task.FromResult(new PodSandbox(c.Id, c.Ip));
    }

    public async Task<PodSandbox> CreateSandboxAsync(SandboxRequest r, CancellationToken ct = default)
    {
        if (!SplitSandbox) return await RunSandboxAsync(r, ct);
        Interlocked.Increment(ref SandboxCount);
        var c = new FakeContainer(NextId(), r.Pod.Metadata.Uid, r.Pod.Metadata.Name, r.Pod.Metadata.NamespaceProperty ?? "default",
            ContainerLabels.SandboxContainerName, "sha256:pause", r.Attempt)
        {
            IsSandbox = true,
            Ip = NextIp(),
        };
        Containers[c.Id] = c;
        Call("create", c.Id);
        return new PodSandbox(c.Id, c.Ip);
    }

    public Task<PodSandbox> StartSandboxAsync(PodSandbox created, CancellationToken ct = default)
    {
        if (!SplitSandbox) return Task.FromResult(created);
        Call("start", created.Id);
        if (SandboxStartFailure is { } failure)
        {
            Containers.TryRemove(created.Id, out _);
            return Task.FromException<PodSandbox>(new InvalidOperationException(failure));
        }
        var c = Containers[created.Id];
        c.Running = true;
        c.StartedAt = DateTime.UtcNow;
        return Task.FromResult(created);
    }

    public Task<string?> FindImageAsync(string image, CancellationToken ct = default) =>
        Task.FromResult(_images.TryGetValue(DockerRuntime.WithDefaultTag(image), out var id) ? id : null);

    public Task<string> CreateContainerAsync(ContainerRequest r, CancellationToken ct = default)
    {
        if (Refused<string>(out var refused)) return refused;
        if (CreateFailure?.Invoke(r) is { } failed) return Task.FromException<string>(failed);
        Interlocked.Increment(ref CreateCount);
        var c = new FakeContainer(NextId(), r.Pod.Metadata.Uid, r.Pod.Metadata.Name, r.Pod.Metadata.NamespaceProperty ?? "default",
            r.Container.Name, _images[DockerRuntime.WithDefaultTag(r.Container.Image)], r.RestartCount) { Request = r, SandboxId = r.SandboxId };
        Containers[c.Id] = c;
        Call("create", c.Id);
        return Task.FromResult(c.Id);
    }

    public Task StartContainerAsync(string containerId, CancellationToken ct = default)
    {
        if (Refused(out var refused)) return refused;
        var c = Containers[containerId];
        if (SplitSandbox) Call("start", containerId);
        if (SplitSandbox && c.SandboxId is { } sandbox && !(Containers.TryGetValue(sandbox, out var s) && s.Running))
            return Task.FromException(new InvalidOperationException($"cannot join network of a non running container: {sandbox}"));
        c.Running = true;
        c.StartedAt = DateTime.UtcNow;
        return Task.CompletedTask;
    }

    public Task StopContainerAsync(string containerId, TimeSpan gracePeriod, CancellationToken ct = default)
    {
        if (Refused(out var refused)) return refused;
        Call("stop", containerId);
        if (Containers.TryGetValue(containerId, out var c) && c.Running)
        {
            c.StopGrace = gracePeriod;
            Exit(containerId, 143);
        }
        return Task.CompletedTask;
    }

    public Task RemoveContainerAsync(string containerId, CancellationToken ct = default)
    {
        if (Refused(out var refused)) return refused;
        Call("remove", containerId);
        if (Containers.TryRemove(containerId, out _)) Interlocked.Increment(ref RemoveCount);
        return Task.CompletedTask;
    }

    public Task<ContainerObservation?> InspectContainerAsync(string containerId, CancellationToken ct = default) => Gated(() =>
        Refused<ContainerObservation?>(out var refused) ? refused : Task.FromResult(Containers.TryGetValue(containerId, out var c)
            ? new ContainerObservation(c.Id, c.ImageId, c.Running, c.ExitCode, c.StartedAt, c.FinishedAt, c.Ip, false, null)
            : null), ct);

    /// <summary>Exec answers: by default every command succeeds; tests replace it to fail probes.</summary>
    public Func<FakeContainer, IReadOnlyList<string>, ExecResult> Exec { get; set; } = (_, _) => new ExecResult(0, "");
    public ConcurrentQueue<(string ContainerId, string Command)> Execs { get; } = new();

    public Task<ExecResult> ExecAsync(string containerId, IReadOnlyList<string> command, CancellationToken ct = default)
    {
        Execs.Enqueue((containerId, string.Join(" ", command)));
        return Containers.TryGetValue(containerId, out var c) && c.Running
            ? Task.FromResult(Exec(c, command))
            : Task.FromException<ExecResult>(new InvalidOperationException($"container {containerId} is not running"));
    }

    /// <summary>Pods with volumes on the node: those a supervisor prepared, and any a test plants; removal takes them out.</summary>
    public ConcurrentDictionary<string, bool> VolumeOwners { get; } = new();

    public Task<IReadOnlyList<string>> ListPodVolumeOwnersAsync(CancellationToken ct = default) => Gated(() =>
        Refused<IReadOnlyList<string>>(out var refused) ? refused : Task.FromResult<IReadOnlyList<string>>(VolumeOwners.Keys.ToList()), ct);

    public Task RemovePodVolumesAsync(string podUid, CancellationToken ct = default)
    {
        VolumeOwners.TryRemove(podUid, out _);
        return Task.CompletedTask;
    }

    /// <summary>When set, setting up the pod's volumes fails with it (a hostPath of the wrong type).</summary>
    public VolumeSetupException? VolumeFailure { get; set; }

    /// <summary>The newest projected volumes each pod's supervisor asked for, by pod uid.</summary>
    public ConcurrentDictionary<string, IReadOnlyList<ProjectedVolume>> Projections { get; } = new();

    public Task PrepareVolumesAsync(k8s.Models.V1Pod pod, IReadOnlyList<ProjectedVolume> projections, CancellationToken ct = default)
    {
        if (Refused(out var refused)) return refused;
        if (VolumeFailure is { } failure) return Task.FromException(failure);
        Projections[pod.Metadata.Uid] = projections;
        VolumeOwners[pod.Metadata.Uid] = true;
        return Task.CompletedTask;
    }

    /// <summary>When set, creating a container fails with what it returns for the request (null: created).</summary>
    public Func<ContainerRequest, Exception?>? CreateFailure { get; set; }

    /// <summary>What each container "printed", for logs.</summary>
    public ConcurrentDictionary<string, string> Logs { get; } = new();

    /// <summary>The last log read's request, as the kubelet endpoint made it.</summary>
    public ContainerLogRequest? LastLogRequest { get; private set; }

    public async Task StreamLogsAsync(string containerId, ContainerLogRequest request, Stream output, CancellationToken ct = default)
    {
        LastLogRequest = request;
        var text = Logs.TryGetValue(containerId, out var t) ? t : "";
        if (request.TailLines is { } tail)
            text = string.Join("", text.Split('\n').SkipLast(1).TakeLast((int)tail).Select(l => l + "\n"));
        await output.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), ct);
    }

    /// <summary>Exec sessions: by default none (the call fails); tests plug in a scripted session.</summary>
    public Func<ExecStart, IExecSession>? ExecSessions { get; set; }

    public Task<IExecSession> StartExecAsync(string containerId, ExecStart start, CancellationToken ct = default) =>
        ExecSessions is { } make ? Task.FromResult(make(start)) : throw new NotSupportedException("no exec sessions in this test");

    /// <summary>Attach sessions: by default none (the call fails); tests plug in a scripted session.</summary>
    public Func<string, bool, IExecSession>? AttachSessions { get; set; }

    public Task<IExecSession> AttachAsync(string containerId, bool stdin, CancellationToken ct = default) =>
        AttachSessions is { } make ? Task.FromResult(make(containerId, stdin)) : throw new NotSupportedException("no attach sessions in this test");

    private string NextId() => $"c{Interlocked.Increment(ref _nextId):D4}{new string('0', 60)}";

    private string NextIp() => $"10.99.0.{_nextId % 250 + 2}";
}

/// <summary>A container, or with <see cref="IsSandbox"/> a pod sandbox: only sandboxes have an address; the pod's
/// containers share their sandbox's (<see cref="SandboxId"/>), as on Docker.</summary>
internal sealed record FakeContainer(string Id, string PodUid, string PodName, string Namespace, string ContainerName, string ImageId, int RestartCount)
{
    public DateTime CreatedAt { get; init; } = DateTime.UtcNow;
    public bool IsSandbox { get; init; }
    public string? SandboxId { get; init; }
    public ContainerRequest? Request { get; init; }
    public volatile bool Running;
    public int ExitCode;
    public DateTime? StartedAt;
    public DateTime? FinishedAt;
    public string? Ip;
    public TimeSpan? StopGrace;
}
