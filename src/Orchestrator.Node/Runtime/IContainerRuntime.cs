using k8s.Models;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// The node's seam to its container engine (Docker in production, a fake in tests). Every container it
/// lists or creates belongs to this node and carries the <see cref="ContainerLabels"/>; methods are safe to
/// call again (removing a missing container is not an error) so callers can reconcile level-triggered.
/// </summary>
internal interface IContainerRuntime
{
    /// <summary>"docker://20.10.24" — the node's containerRuntimeVersion.</summary>
    Task<string> GetVersionAsync(CancellationToken ct = default);

    /// <summary>Creates the pod network if it is missing.</summary>
    Task EnsureNetworkAsync(CancellationToken ct = default);

    /// <summary>This node's containers (all states); only those of one pod when <paramref name="podUid"/> is given.</summary>
    Task<IReadOnlyList<RuntimeContainer>> ListContainersAsync(string? podUid = null, CancellationToken ct = default);

    /// <summary>The local image's id, or null when the image is not in the local store (never pulls).</summary>
    Task<string?> FindImageAsync(string image, CancellationToken ct = default);

    /// <summary>The local image with its size and registry digests, or null when it is not in the local store.</summary>
    Task<LocalImage?> InspectImageAsync(string image, CancellationToken ct = default);

    /// <summary>Pulls the image from its registry (trying each credential in turn, anonymously when there is none) and
    /// returns it as now stored; throws <see cref="ImagePullException"/> with the registry's or Docker's reason.</summary>
    Task<LocalImage> PullImageAsync(ImagePullRequest request, CancellationToken ct = default);

    /// <summary>Creates and starts the pod's sandbox ("pause") container: it owns the pod's network namespace — its IP
    /// (allocated from the node's pod range before the container exists), hostname, resolver configuration and published
    /// ports — and the pod's containers join it (<see cref="ContainerRequest.SandboxId"/>). A failed start leaves nothing.</summary>
    Task<PodSandbox> RunSandboxAsync(SandboxRequest request, CancellationToken ct = default);

    /// <summary>The first half of <see cref="RunSandboxAsync"/>: the sandbox container made (its IP reserved) but not
    /// started, so the pod's containers can be created joining it while <see cref="StartSandboxAsync"/> runs (Docker
    /// lets a container name a created network namespace; only its start needs it running). A runtime that cannot split
    /// the two runs the sandbox here.</summary>
    Task<PodSandbox> CreateSandboxAsync(SandboxRequest request, CancellationToken ct = default) => RunSandboxAsync(request, ct);

    /// <summary>Starts a sandbox <see cref="CreateSandboxAsync"/> made and returns it with its IP. A failed start removes
    /// it; an address taken meanwhile is <see cref="SandboxAddressTakenException"/> (create another).</summary>
    Task<PodSandbox> StartSandboxAsync(PodSandbox created, CancellationToken ct = default) => Task.FromResult(created);

    /// <summary>Creates (does not start) the container for one container of a pod; returns its id.</summary>
    Task<string> CreateContainerAsync(ContainerRequest request, CancellationToken ct = default);

    Task StartContainerAsync(string containerId, CancellationToken ct = default);

    /// <summary>SIGTERM, then SIGKILL after <paramref name="gracePeriod"/>. A missing or stopped container is fine.</summary>
    Task StopContainerAsync(string containerId, TimeSpan gracePeriod, CancellationToken ct = default);

    /// <summary>Removes the container (forcefully); a missing container is fine.</summary>
    Task RemoveContainerAsync(string containerId, CancellationToken ct = default);

    /// <summary>The container's current state, or null when it no longer exists.</summary>
    Task<ContainerObservation?> InspectContainerAsync(string containerId, CancellationToken ct = default);

    /// <summary>Runs <paramref name="command"/> inside the running container and waits for it (exec probes, preStop
    /// hooks); the output is stdout then stderr, for messages.</summary>
    Task<ExecResult> ExecAsync(string containerId, IReadOnlyList<string> command, CancellationToken ct = default);

    /// <summary>Sets the pod's volumes up on the node before its sandbox runs, as the kubelet's volume manager does:
    /// hostPath type checks (creating a DirectoryOrCreate or FileOrCreate path), and the files of its configMap, secret,
    /// downwardAPI and projected volumes (<paramref name="projections"/>, written atomically; secret and projected ones
    /// on a tmpfs). Called again while the pod runs, so a changed ConfigMap or Secret reaches the volume; an unchanged
    /// payload writes nothing. Throws <see cref="VolumeSetupException"/> naming the volume that cannot be set up.</summary>
    Task PrepareVolumesAsync(V1Pod pod, IReadOnlyList<ProjectedVolume> projections, CancellationToken ct = default);

    /// <summary>The uids of the pods that have volumes on this node (emptyDir, configMap, secret, …): the orphan sweep
    /// removes those of pods no longer here (deleted while the node was down).</summary>
    Task<IReadOnlyList<string>> ListPodVolumeOwnersAsync(CancellationToken ct = default);

    /// <summary>Removes the pod's volumes (after its containers are gone; a secret's tmpfs unmounted first); missing ones are fine.</summary>
    Task RemovePodVolumesAsync(string podUid, CancellationToken ct = default);

    /// <summary>Copies the container's output (stdout and stderr interleaved) to <paramref name="output"/>; with
    /// <see cref="ContainerLogRequest.Follow"/> until the container ends or <paramref name="ct"/> fires.</summary>
    Task StreamLogsAsync(string containerId, ContainerLogRequest request, Stream output, CancellationToken ct = default);

    /// <summary>Starts a command in the running container with its streams attached (kubectl exec).</summary>
    Task<IExecSession> StartExecAsync(string containerId, ExecStart start, CancellationToken ct = default);

    /// <summary>Attaches to the running container's main process (kubectl attach): its output from now on, its stdin
    /// when asked and the container has one, resize when it has a terminal. Ends when the process does.</summary>
    Task<IExecSession> AttachAsync(string containerId, bool stdin, CancellationToken ct = default);
}

/// <summary>A volume of the pod cannot be set up (the kubelet's FailedMount): the pod's sandbox waits until it can.</summary>
internal sealed class VolumeSetupException(string volume, string message)
    : Exception($"MountVolume.SetUp failed for volume \"{volume}\" : {message}")
{
    public string Volume { get; } = volume;
}

/// <summary>The sandbox's reserved address was taken by someone else on the engine before it started; the sandbox is
/// removed, and a new one (another address) may be created at once.</summary>
internal sealed class SandboxAddressTakenException(string ip, string message) : Exception($"pod IP {ip} was taken: {message}");

/// <summary>An image could not be pulled; the message is Docker's or the registry's reason.</summary>
internal sealed class ImagePullException(string message) : Exception(message);

/// <summary>What to pull: <paramref name="Image"/> as the pod names it, with the pod's matching credentials; with a
/// <paramref name="Mirror"/> (host[:port]) Docker Hub images are tried there first and tagged with their own name.</summary>
internal sealed record ImagePullRequest(string Image, IReadOnlyList<RegistryAuth> Auths, string? Mirror = null);

/// <summary>An image in the node's store: its id (sha256:…), size in bytes and the registry digests it is known by
/// ("repo@sha256:…"; none for an image built or loaded here), and its configured user (null: not known, the container's
/// create looks it up).</summary>
internal sealed record LocalImage(string Id, long Size, IReadOnlyList<string> RepoDigests, string? User = null)
{
    /// <summary>The container status' imageID: "docker-pullable://repo@sha256:…" for an image from a registry (the
    /// digest of the repository the pod named, else the first), "docker://sha256:…" for a local one.</summary>
    public string StatusImageId(ImageReference? reference)
    {
        var digest = RepoDigests.FirstOrDefault(d => reference is not null && d.StartsWith(reference.FamiliarRepository + "@", StringComparison.Ordinal))
                     ?? RepoDigests.FirstOrDefault();
        return digest is null ? $"docker://{Id}" : $"docker-pullable://{digest}";
    }

    /// <summary>Whether the image came from <paramref name="reference"/>'s repository (a registry digest of it): one
    /// built or loaded here has none, and neither has one only pushed to, or pulled from, another repository (a local
    /// registry): the node may fall back to such an image when its pull fails.</summary>
    public bool CameFrom(ImageReference reference) =>
        RepoDigests.Any(d => d.StartsWith(reference.FamiliarRepository + "@", StringComparison.Ordinal)
                             || d.StartsWith(reference.Repository + "@", StringComparison.Ordinal));
}

/// <summary>The container's configuration cannot be made from its spec (the kubelet's CreateContainerConfigError: a
/// subPath that leaves its volume, runAsNonRoot with a root image): the container waits with this message.</summary>
internal sealed class ContainerConfigException(string message) : Exception(message);

/// <summary>What of a container's log to read: the last lines, or those since a moment (at most one of
/// <see cref="SinceSeconds"/> and <see cref="SinceTime"/>); the byte limit is applied by the caller.</summary>
/// <summary>What a log read returns; <see cref="Stdout"/> and <see cref="Stderr"/> choose the streams (the
/// PodLogOptions <c>stream</c>: both unless one alone is asked for).</summary>
internal sealed record ContainerLogRequest(bool Follow, long? TailLines, long? SinceSeconds, bool Timestamps, DateTimeOffset? SinceTime = null,
    bool Stdout = true, bool Stderr = true);

internal sealed record ExecStart(IReadOnlyList<string> Command, bool Stdin, bool Tty);

/// <summary>One attached exec (or attach): output frames tagged 1 (stdout) or 2 (stderr), stdin, resize, and the exit code.</summary>
internal interface IExecSession : IDisposable
{
    Task<ExecOutput> ReadAsync(byte[] buffer, CancellationToken ct);

    Task WriteStdinAsync(byte[] buffer, int offset, int count, CancellationToken ct);

    void CloseStdin();

    Task ResizeAsync(int width, int height, CancellationToken ct);

    /// <summary>The command's exit code, once output has ended.</summary>
    Task<int> ExitCodeAsync(CancellationToken ct);
}

internal readonly record struct ExecOutput(int Count, int Stream, bool Eof);

/// <summary>How a command run in a container ended.</summary>
internal sealed record ExecResult(int ExitCode, string Output);

/// <summary>What a listing says about one container (from its labels). A pod's sandbox is listed too, flagged
/// <see cref="IsSandbox"/> (its container name is <see cref="ContainerLabels.SandboxContainerName"/>); logs, exec and
/// container statuses must skip it.</summary>
internal sealed record RuntimeContainer(
    string Id,
    string PodUid,
    string PodName,
    string PodNamespace,
    string ContainerName,
    int RestartCount,
    bool Running,
    DateTime CreatedAt)
{
    public bool IsSandbox { get; init; }

    /// <summary>The sandbox whose network namespace the container joined; null for a sandbox, or a container made
    /// before pods had sandboxes.</summary>
    public string? SandboxId { get; init; }
}

/// <summary>Everything the runtime needs to create one container of a pod. With <paramref name="SandboxId"/> the
/// container joins that sandbox's network namespace and <paramref name="PodIp"/> is the sandbox's address
/// (status.podIP in the downward API); without, it gets a network of its own (runtime tests).</summary>
internal sealed record ContainerRequest(V1Pod Pod, V1Container Container, string NodeName, string HostAddress, int RestartCount,
    string? SandboxId = null, string? PodIp = null)
{
    /// <summary>The container's whole environment as NAME=value, resolved by the pod's supervisor (ConfigMaps, Secrets,
    /// downward API, service variables); null: made from the spec alone, with the service variables (runtime tests).</summary>
    public IReadOnlyList<string>? Environment { get; init; }

    /// <summary>The container whose PID namespace this one joins (an ephemeral container's target).</summary>
    public string? PidNamespaceOf { get; init; }

    /// <summary>The image's configured user, when the caller inspected the image already (one image inspect per start);
    /// null: the create looks it up.</summary>
    public ImageUser? ImageUser { get; init; }

    /// <summary>Names only: the environment may hold Secret values.</summary>
    public override string ToString() => $"ContainerRequest {{ Pod = {Pod.Metadata.NamespaceProperty}/{Pod.Metadata.Name}, Container = {Container.Name}, RestartCount = {RestartCount} }}";
}

/// <summary>What the runtime needs to run a pod's sandbox; <paramref name="Attempt"/> counts the pod's sandboxes (0, 1, …).</summary>
internal sealed record SandboxRequest(V1Pod Pod, string NodeName, string HostAddress, int Attempt);

/// <summary>A running sandbox and the pod IP it holds (null only on a network whose addresses Docker assigns).</summary>
internal sealed record PodSandbox(string Id, string? Ip);

/// <summary>The inspected state of one container.</summary>
internal sealed record ContainerObservation(
    string Id,
    string ImageId,
    bool Running,
    int ExitCode,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    string? IpAddress,
    bool OomKilled,
    string? Error);

/// <summary>The labels that tie a container to its node and pod; a restarted node agent adopts containers by them.</summary>
internal static class ContainerLabels
{
    public const string Node = "io.orchestrator.node";
    public const string PodUid = "io.orchestrator.pod.uid";
    public const string PodName = "io.orchestrator.pod.name";
    public const string PodNamespace = "io.orchestrator.pod.namespace";
    public const string ContainerName = "io.orchestrator.container.name";
    /// <summary>Kept on the container so a restarted agent reports the same restartCount (on a sandbox: its attempt).</summary>
    public const string RestartCount = "io.orchestrator.container.restart-count";
    /// <summary>"sandbox" on a pod's sandbox container; absent on the pod's own containers.</summary>
    public const string Role = "io.orchestrator.role";
    public const string SandboxRole = "sandbox";
    /// <summary>On a pod's container: the id of the sandbox it joined, so a restarted agent can tell containers of an
    /// earlier (dead) sandbox from those of the current one.</summary>
    public const string Sandbox = "io.orchestrator.sandbox.id";
    /// <summary>The sandbox's container name label, like the kubelet's "POD" (no pod container can be named so:
    /// container names are lower-case DNS labels).</summary>
    public const string SandboxContainerName = "POD";

    public static Dictionary<string, string> For(ContainerRequest r)
    {
        var labels = Common(r.Pod, r.NodeName, r.Container.Name, r.RestartCount);
        if (r.SandboxId is not null) labels[Sandbox] = r.SandboxId;
        return labels;
    }

    public static Dictionary<string, string> For(SandboxRequest r)
    {
        var labels = Common(r.Pod, r.NodeName, SandboxContainerName, r.Attempt);
        labels[Role] = SandboxRole;
        return labels;
    }

    private static Dictionary<string, string> Common(V1Pod pod, string nodeName, string containerName, int restartCount) => new()
    {
        [Node] = nodeName,
        [PodUid] = pod.Metadata.Uid,
        [PodName] = pod.Metadata.Name,
        [PodNamespace] = pod.Metadata.NamespaceProperty ?? "default",
        [ContainerName] = containerName,
        [RestartCount] = restartCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>orch_&lt;pod&gt;_&lt;namespace&gt;_&lt;container&gt;_&lt;short uid&gt;_&lt;restart count&gt;, like the kubelet's
    /// k8s_…_attempt names: the previous instance of a restarted container can stay for <c>kubectl logs --previous</c>.</summary>
    public static string ContainerNameFor(ContainerRequest r) => NameFor(r.Pod, r.Container.Name, r.RestartCount);

    /// <summary>orch_&lt;pod&gt;_&lt;namespace&gt;_POD_&lt;short uid&gt;_&lt;attempt&gt;.</summary>
    public static string ContainerNameFor(SandboxRequest r) => NameFor(r.Pod, SandboxContainerName, r.Attempt);

    private static string NameFor(V1Pod pod, string container, int attempt)
    {
        var uid = (pod.Metadata.Uid ?? "").Replace("-", "");
        return $"orch_{pod.Metadata.Name}_{pod.Metadata.NamespaceProperty ?? "default"}_{container}_{uid[..Math.Min(8, uid.Length)]}_{attempt}";
    }

    public static RuntimeContainer? Parse(string id, IDictionary<string, string>? labels, bool running, DateTime createdAt)
    {
        if (labels is null || !labels.TryGetValue(PodUid, out var uid) || !labels.TryGetValue(ContainerName, out var name))
            return null;
        labels.TryGetValue(PodName, out var podName);
        labels.TryGetValue(PodNamespace, out var ns);
        var restarts = labels.TryGetValue(RestartCount, out var rc) && int.TryParse(rc, out var n) ? n : 0;
        return new RuntimeContainer(id, uid, podName ?? "", ns ?? "default", name, restarts, running, createdAt)
        {
            IsSandbox = labels.TryGetValue(Role, out var role) && role == SandboxRole,
            SandboxId = labels.TryGetValue(Sandbox, out var sandbox) ? sandbox : null,
        };
    }
}
