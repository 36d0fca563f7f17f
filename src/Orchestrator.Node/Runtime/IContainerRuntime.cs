using k8s.Models;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// The node's seam to its container engine (Docker in production, a fake in tests). Every container it
/// lists or creates belongs to this node and carries the <see cref="ContainerLabels"/>; methods are safe to
/// call again (removing a missing container is not an error) so callers can reconcile level-triggered.
/// </summary>
public interface IContainerRuntime
{
    /// <summary>"docker://20.10.24" — the node's containerRuntimeVersion.</summary>
    Task<string> GetVersionAsync(CancellationToken ct = default);

    /// <summary>Creates the pod network if it is missing.</summary>
    Task EnsureNetworkAsync(CancellationToken ct = default);

    /// <summary>This node's containers (all states); only those of one pod when <paramref name="podUid"/> is given.</summary>
    Task<IReadOnlyList<RuntimeContainer>> ListContainersAsync(string? podUid = null, CancellationToken ct = default);

    /// <summary>The local image's id, or null when the image is not in the local store (never pulls).</summary>
    Task<string?> FindImageAsync(string image, CancellationToken ct = default);

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

    /// <summary>Removes the pod's emptyDir volumes (after its containers are gone); missing ones are fine.</summary>
    Task RemovePodVolumesAsync(string podUid, CancellationToken ct = default);

    /// <summary>Copies the container's output (stdout and stderr interleaved) to <paramref name="output"/>; with
    /// <see cref="ContainerLogRequest.Follow"/> until the container ends or <paramref name="ct"/> fires.</summary>
    Task StreamLogsAsync(string containerId, ContainerLogRequest request, Stream output, CancellationToken ct = default);

    /// <summary>Starts a command in the running container with its streams attached (kubectl exec).</summary>
    Task<IExecSession> StartExecAsync(string containerId, ExecStart start, CancellationToken ct = default);
}

public sealed record ContainerLogRequest(bool Follow, long? TailLines, long? SinceSeconds, bool Timestamps);

public sealed record ExecStart(IReadOnlyList<string> Command, bool Stdin, bool Tty);

/// <summary>One attached exec: output frames tagged 1 (stdout) or 2 (stderr), stdin, resize, and the exit code.</summary>
public interface IExecSession : IDisposable
{
    Task<ExecOutput> ReadAsync(byte[] buffer, CancellationToken ct);

    Task WriteStdinAsync(byte[] buffer, int offset, int count, CancellationToken ct);

    void CloseStdin();

    Task ResizeAsync(int width, int height, CancellationToken ct);

    /// <summary>The command's exit code, once output has ended.</summary>
    Task<int> ExitCodeAsync(CancellationToken ct);
}

public readonly record struct ExecOutput(int Count, int Stream, bool Eof);

/// <summary>How a command run in a container ended.</summary>
public sealed record ExecResult(int ExitCode, string Output);

/// <summary>What a listing says about one container (from its labels).</summary>
public sealed record RuntimeContainer(
    string Id,
    string PodUid,
    string PodName,
    string PodNamespace,
    string ContainerName,
    int RestartCount,
    bool Running,
    DateTime CreatedAt);

/// <summary>Everything the runtime needs to create one container of a pod.</summary>
public sealed record ContainerRequest(V1Pod Pod, V1Container Container, string NodeName, string HostAddress, int RestartCount);

/// <summary>The inspected state of one container.</summary>
public sealed record ContainerObservation(
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
public static class ContainerLabels
{
    public const string Node = "io.orchestrator.node";
    public const string PodUid = "io.orchestrator.pod.uid";
    public const string PodName = "io.orchestrator.pod.name";
    public const string PodNamespace = "io.orchestrator.pod.namespace";
    public const string ContainerName = "io.orchestrator.container.name";
    /// <summary>Kept on the container so a restarted agent reports the same restartCount.</summary>
    public const string RestartCount = "io.orchestrator.container.restart-count";

    public static Dictionary<string, string> For(ContainerRequest r) => new()
    {
        [Node] = r.NodeName,
        [PodUid] = r.Pod.Metadata.Uid,
        [PodName] = r.Pod.Metadata.Name,
        [PodNamespace] = r.Pod.Metadata.NamespaceProperty ?? "default",
        [ContainerName] = r.Container.Name,
        [RestartCount] = r.RestartCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>orch_&lt;pod&gt;_&lt;namespace&gt;_&lt;container&gt;_&lt;short uid&gt;_&lt;restart count&gt;, like the kubelet's
    /// k8s_…_attempt names: the previous instance of a restarted container can stay for <c>kubectl logs --previous</c>.</summary>
    public static string ContainerNameFor(ContainerRequest r)
    {
        var uid = r.Pod.Metadata.Uid ?? "";
        var shortUid = uid.Replace("-", "")[..Math.Min(8, uid.Replace("-", "").Length)];
        return $"orch_{r.Pod.Metadata.Name}_{r.Pod.Metadata.NamespaceProperty ?? "default"}_{r.Container.Name}_{shortUid}_{r.RestartCount}";
    }

    public static RuntimeContainer? Parse(string id, IDictionary<string, string>? labels, bool running, DateTime createdAt)
    {
        if (labels is null || !labels.TryGetValue(PodUid, out var uid) || !labels.TryGetValue(ContainerName, out var name))
            return null;
        labels.TryGetValue(PodName, out var podName);
        labels.TryGetValue(PodNamespace, out var ns);
        var restarts = labels.TryGetValue(RestartCount, out var rc) && int.TryParse(rc, out var n) ? n : 0;
        return new RuntimeContainer(id, uid, podName ?? "", ns ?? "default", name, restarts, running, createdAt);
    }
}
