using System.Globalization;
using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Host;
using Orchestrator.Node.Services;

namespace Orchestrator.Node.Runtime;

/// <summary>Pods and Dns are null in runtime tests: a plain bridge network where Docker assigns addresses, Docker's
/// default resolver.</summary>
internal sealed record DockerRuntimeOptions(string Endpoint, string NodeName, string NetworkName, string HostAddress,
    PodNetwork? Pods = null, PodDns? Dns = null)
{
    /// <summary>The pod sandbox image deploy/images/build.sh builds.</summary>
    public string SandboxImage { get; init; } = DefaultSandboxImage;

    /// <summary>The deadline of the calls this runtime makes on its own (clean-ups, opening a log stream); every call a
    /// caller makes is bounded by <see cref="BoundedRuntime"/> around it.</summary>
    public TimeSpan RequestTimeout { get; init; } = RuntimeLimits.Default.Request;

    /// <summary>Where Localhost seccomp profiles are read (the kubelet's <c>{root-dir}/seccomp</c>).</summary>
    public string SeccompProfileRoot { get; init; } = ContainerSecurity.SeccompProfileRoot;

    public const string DefaultSandboxImage = "orchestrator/pause:1";
}

/// <summary>
/// <see cref="IContainerRuntime"/> on the Docker Engine API — the only user of Docker.DotNet.
/// Images are pulled only when asked (<see cref="PullImageAsync"/>): the pull policy is the PodSupervisor's business.
/// Docker's own restart policy stays "no": restarts are the PodSupervisor's decision.
/// </summary>
internal sealed partial class DockerRuntime : IContainerRuntime, IDisposable
{
    private readonly DockerClient _client;
    private readonly DockerRuntimeOptions _options;
    private readonly ILogger _log;
    private readonly ServiceDirectory? _services;
    private readonly PodIpAllocator? _ips;
    /// <summary>One allocation at a time: reading the network's addresses and reserving one must not interleave.</summary>
    private readonly SemaphoreSlim _allocating = new(1, 1);
    /// <summary>Mount points of the pods' projected volumes, by Docker volume name.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _projectedDirectories = new();

    public DockerRuntime(DockerRuntimeOptions options, ILogger<DockerRuntime> log, ServiceDirectory? services = null)
    {
        _options = options;
        _log = log;
        _services = services;
        _ips = options.Pods is { } pods ? new PodIpAllocator(pods.IpRange) : null;
        _client = new DockerClientConfiguration(new Uri(options.Endpoint)).CreateClient();
    }

    public async Task<string> GetVersionAsync(CancellationToken ct = default)
    {
        try
        {
            var version = await _client.System.GetVersionAsync(ct);
            return $"docker://{version.Version}";
        }
        catch (Exception e) when (e is HttpRequestException or IOException or System.Net.Sockets.SocketException)
        {
            // Docker.DotNet says only "Connection failed": the node's NotReady message names the engine and the socket's error
            throw new IOException($"cannot connect to the Docker engine at {_options.Endpoint}: {Causes(e)}", e);
        }
    }

    /// <summary>"Connection failed: Connection refused": the messages of an exception and its causes, each once.</summary>
    internal static string Causes(Exception e)
    {
        var messages = new List<string>();
        for (var x = e; x is not null; x = x.InnerException)
            if (!string.IsNullOrWhiteSpace(x.Message) && !messages.Contains(x.Message)) messages.Add(x.Message);
        return string.Join(": ", messages);
    }

    public async Task EnsureNetworkAsync(CancellationToken ct = default)
    {
        if (await NetworkExistsAsync(ct) && !await ReplaceMismatchedNetworkAsync(ct)) return;
        try
        {
            var pods = _options.Pods;
            await _client.Networks.CreateNetworkAsync(new NetworksCreateParameters
            {
                Name = _options.NetworkName,
                Driver = "bridge",
                CheckDuplicate = true,
                Labels = new Dictionary<string, string> { ["io.orchestrator.network"] = "pods" },
                IPAM = pods is null ? null : new IPAM
                {
                    Driver = "default",
                    Config = [new IPAMConfig { Subnet = pods.Subnet, IPRange = pods.NetworkIpRange, Gateway = pods.Gateway }],
                },
                Options = pods is null ? null : new Dictionary<string, string> { ["com.docker.network.bridge.name"] = pods.Bridge },
            }, ct);
            _log.LogInformation("Created docker network {Network}", _options.NetworkName);
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            // another node agent on this machine created it first
            if (!await NetworkExistsAsync(ct)) throw;
        }
    }

    /// <summary>
    /// A network of our name made without the pod subnet (an older node, another tool) cannot carry ClusterIPs:
    /// replace it when no container uses it; otherwise keep it and say so. True when it was removed.
    /// </summary>
    private async Task<bool> ReplaceMismatchedNetworkAsync(CancellationToken ct)
    {
        if (_options.Pods is not { } pods) return false;
        var network = await _client.Networks.InspectNetworkAsync(_options.NetworkName, ct);
        var subnetOk = network.IPAM?.Config?.Any(c => c.Subnet == pods.Subnet) == true;
        var bridgeOk = network.Options?.TryGetValue("com.docker.network.bridge.name", out var bridge) == true && bridge == pods.Bridge;
        if (subnetOk && bridgeOk) return false;
        if (network.Containers is { Count: > 0 })
        {
            _log.LogWarning("Docker network {Network} is not on {Subnet} (bridge {Bridge}) and has containers; keeping it, " +
                            "so ClusterIPs and cluster DNS are not reachable from pods", _options.NetworkName, pods.Subnet, pods.Bridge);
            return false;
        }
        _log.LogInformation("Replacing docker network {Network}: recreating it on {Subnet}", _options.NetworkName, pods.Subnet);
        await _client.Networks.DeleteNetworkAsync(network.ID, ct);
        return true;
    }

    private async Task<bool> NetworkExistsAsync(CancellationToken ct)
    {
        // the name filter matches substrings: compare exactly
        var networks = await _client.Networks.ListNetworksAsync(new NetworksListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { [_options.NetworkName] = true } },
        }, ct);
        return networks.Any(n => n.Name == _options.NetworkName);
    }

    public async Task<IReadOnlyList<RuntimeContainer>> ListContainersAsync(string? podUid = null, CancellationToken ct = default)
    {
        var labels = new Dictionary<string, bool> { [$"{ContainerLabels.Node}={_options.NodeName}"] = true };
        if (podUid is not null) labels[$"{ContainerLabels.PodUid}={podUid}"] = true;
        var list = await _client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = labels },
        }, ct);
        return list
            .Select(c => ContainerLabels.Parse(c.ID, c.Labels, c.State == "running", c.Created))
            .OfType<RuntimeContainer>()
            .ToList();
    }

    public async Task<string?> FindImageAsync(string image, CancellationToken ct = default)
    {
        try
        {
            var inspected = await _client.Images.InspectImageAsync(WithDefaultTag(image), ct);
            return inspected.ID;
        }
        catch (DockerImageNotFoundException) { return null; }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return null; }
    }

    /// <summary>"nginx" means "nginx:latest", as in Kubernetes; a digest or a tag is kept.</summary>
    internal static string WithDefaultTag(string image)
    {
        if (image.Contains('@')) return image;
        var lastSlash = image.LastIndexOf('/');
        return image.IndexOf(':', lastSlash + 1) >= 0 ? image : image + ":latest";
    }

    public async Task<string> CreateContainerAsync(ContainerRequest request, CancellationToken ct = default)
    {
        var image = request.ImageUser ?? await ImageUserAsync(request.Container.Image, ct);
        // emptyDir volumes are Docker volumes named after the pod: shared by its containers, kept across restarts
        var emptyDirs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var volume in PodVolumes.EmptyDirsUsedBy(request.Pod, request.Container))
        {
            var created = await _client.Volumes.CreateAsync(new VolumesCreateParameters
            {
                Name = PodVolumes.EmptyDirName(request.Pod, volume),
                Labels = new Dictionary<string, string>
                {
                    [ContainerLabels.Node] = _options.NodeName,
                    [ContainerLabels.PodUid] = request.Pod.Metadata.Uid,
                },
            }, ct);
            emptyDirs[volume.Name] = created.Mountpoint;
            EmptyDirs.SetUp(volume.Name, created.Mountpoint, request.Pod.Spec.SecurityContext?.FsGroup, _log);
        }
        // configMap, secret, downwardAPI and projected volumes: the directories PrepareVolumesAsync filled, bound read-only
        foreach (var volume in PodVolumes.ProjectedUsedBy(request.Pod, request.Container))
            emptyDirs[volume.Name] = await ProjectedDirectoryAsync(request.Pod, volume.Name, ct);
        return await CreateReplacingAsync(BuildCreateParameters(request, image, emptyDirs), ct);
    }

    /// <summary>The image's configured user (the image is local: FindImageAsync was asked before).</summary>
    private async Task<ImageUser> ImageUserAsync(string image, CancellationToken ct)
    {
        try
        {
            var inspected = await _client.Images.InspectImageAsync(WithDefaultTag(image), ct);
            return new ImageUser(inspected.Config?.User ?? "");
        }
        catch (DockerImageNotFoundException) { return ImageUser.Root; } // the create reports the missing image
    }

    public async Task PrepareVolumesAsync(V1Pod pod, IReadOnlyList<ProjectedVolume> projections, CancellationToken ct = default)
    {
        PodVolumes.SetUpHostPaths(pod);
        foreach (var projection in projections)
        {
            var directory = await ProjectedDirectoryAsync(pod, projection.Name, ct);
            if (HostFiles.TypeOf(directory) != HostFileType.Directory)
                throw new VolumeSetupException(projection.Name, $"the volume's directory {directory} is not visible to the node");
            if (projection.Tmpfs && HostMounts.EnsureTmpfs(directory) is { } failed) throw new VolumeSetupException(projection.Name, failed);
            try
            {
                if (AtomicWriter.Write(directory, projection.Files, projection.FsGroup))
                    _log.LogInformation("Wrote volume {Volume} of pod {Namespace}/{Pod}", projection.Name, pod.Metadata.NamespaceProperty, pod.Metadata.Name);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                throw new VolumeSetupException(projection.Name, e.Message);
            }
        }
    }

    /// <summary>The node directory of a pod's configMap/secret/downwardAPI/projected volume: a Docker volume named as an
    /// emptyDir's (labelled with the pod, so it goes with the pod's volumes), its mount point remembered.</summary>
    private async Task<string> ProjectedDirectoryAsync(V1Pod pod, string volume, CancellationToken ct)
    {
        var name = $"orch-{pod.Metadata.Uid}-{volume}";
        if (_projectedDirectories.TryGetValue(name, out var known)) return known;
        var created = await _client.Volumes.CreateAsync(new VolumesCreateParameters
        {
            Name = name,
            Labels = new Dictionary<string, string>
            {
                [ContainerLabels.Node] = _options.NodeName,
                [ContainerLabels.PodUid] = pod.Metadata.Uid,
            },
        }, ct);
        return _projectedDirectories[name] = created.Mountpoint;
    }

    private async Task<string> CreateReplacingAsync(CreateContainerParameters parameters, CancellationToken ct)
    {
        try
        {
            return (await _client.Containers.CreateContainerAsync(parameters, ct)).ID;
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            // a leftover container with our name (e.g. a restart whose removal failed): it is ours, replace it
            _log.LogWarning("Container name {Name} in use; removing the old container", parameters.Name);
            await RemoveContainerAsync(parameters.Name, ct);
            return (await _client.Containers.CreateContainerAsync(parameters, ct)).ID;
        }
    }

    /// <summary>The container's create parameters (no Docker call). <paramref name="emptyDirs"/>: the emptyDir volumes'
    /// directories on the node, by volume name (for subPaths into them).</summary>
    internal CreateContainerParameters BuildCreateParameters(ContainerRequest r, ImageUser? image = null,
        IReadOnlyDictionary<string, string>? emptyDirs = null)
    {
        var c = r.Container;
        var environment = r.Environment?.ToList() ?? WithServiceEnvironment(r.Pod, ContainerEnvironment.Resolve(r.Pod, c, r.NodeName, r.HostAddress, r.PodIp));
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in environment) variables[e.Split('=', 2)[0]] = e.Split('=', 2)[1];
        var hostConfig = new HostConfig
        {
            RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.No },
            Binds = PodVolumes.Binds(r.Pod, c, emptyDirs, variables),
            Tmpfs = PodVolumes.MemoryEmptyDirs(r.Pod, c),
        };
        ApplyLimits(c.Resources, hostConfig);
        var parameters = new CreateContainerParameters
        {
            Name = ContainerLabels.ContainerNameFor(r),
            Image = WithDefaultTag(c.Image),
            Env = environment,
            // $(VAR) in command and args from the container's environment (the kubelet's ExpandContainerCommandAndArgs)
            Entrypoint = c.Command is { Count: > 0 } ? c.Command.Select(a => ContainerEnvironment.Expand(a, variables)).ToList() : null,
            Cmd = c.Args is { Count: > 0 } ? c.Args.Select(a => ContainerEnvironment.Expand(a, variables)).ToList() : null,
            WorkingDir = string.IsNullOrEmpty(c.WorkingDir) ? null : c.WorkingDir,
            Labels = ContainerLabels.For(r),
            Tty = c.Tty ?? false,
            OpenStdin = c.Stdin ?? false,
            // stdinOnce: the container's stdin closes when the first attached client leaves (kubectl run -it)
            StdinOnce = c.StdinOnce ?? false,
            HostConfig = hostConfig,
        };
        ContainerSecurity.Apply(r.Pod, c, image ?? ImageUser.Root, hostConfig, parameters, r.SandboxId, _options.SeccompProfileRoot);
        if (r.PidNamespaceOf is { } target) hostConfig.PidMode = $"container:{target}";
        if (r.SandboxId is not null)
        {
            // the sandbox's network namespace: its IP, ports, hostname and resolv.conf (Docker refuses all of those here)
            hostConfig.NetworkMode = $"container:{r.SandboxId}";
            return parameters;
        }
        hostConfig.NetworkMode = _options.NetworkName;
        ApplyNetworkIdentity(r.Pod, [c], r.HostAddress, parameters);
        return parameters;
    }

    /// <summary>The services' env vars (those of the namespace with enableServiceLinks, default true; the API server's
    /// always) come first; the container's own win.</summary>
    private List<string> WithServiceEnvironment(V1Pod pod, List<string> own)
    {
        if (_services is null) return own;
        var defined = own.Select(e => e.Split('=', 2)[0]).ToHashSet(StringComparer.Ordinal);
        return _services.EnvironmentFor(pod.Metadata.NamespaceProperty ?? "default", pod.Spec?.EnableServiceLinks != false)
            .Where(kv => !defined.Contains(kv.Key))
            .Select(kv => $"{kv.Key}={kv.Value}")
            .Concat(own)
            .ToList();
    }

    private static void ApplyLimits(V1ResourceRequirements? resources, HostConfig hostConfig)
    {
        if (resources?.Limits is not { } limits) return;
        if (limits.TryGetValue("memory", out var memory))
        {
            hostConfig.Memory = memory.ToInt64();
            hostConfig.MemorySwap = hostConfig.Memory; // no swap on top, as the kubelet runs containers: over the limit is OOMKilled
        }
        if (limits.TryGetValue("cpu", out var cpu)) hostConfig.NanoCPUs = (long)(cpu.ToDecimal() * 1_000_000_000m);
    }

    public async Task StartContainerAsync(string containerId, CancellationToken ct = default) =>
        await _client.Containers.StartContainerAsync(containerId, new ContainerStartParameters(), ct);

    public async Task StopContainerAsync(string containerId, TimeSpan gracePeriod, CancellationToken ct = default)
    {
        try
        {
            await _client.Containers.StopContainerAsync(containerId,
                new ContainerStopParameters { WaitBeforeKillSeconds = (uint)Math.Max(0, gracePeriod.TotalSeconds) }, ct);
        }
        catch (DockerContainerNotFoundException) { }
    }

    public async Task RemoveContainerAsync(string containerId, CancellationToken ct = default)
    {
        try
        {
            await _client.Containers.RemoveContainerAsync(containerId, new ContainerRemoveParameters { Force = true }, ct);
        }
        catch (DockerContainerNotFoundException) { }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict && e.ResponseBody.Contains("already in progress"))
        {
            // someone else is removing it
        }
        await ReleaseReservedIpAsync(containerId); // a sandbox removed before its start
    }

    public async Task<ContainerObservation?> InspectContainerAsync(string containerId, CancellationToken ct = default)
    {
        ContainerInspectResponse inspected;
        try
        {
            inspected = await _client.Containers.InspectContainerAsync(containerId, ct);
        }
        catch (DockerContainerNotFoundException) { return null; }

        string? ip = null;
        if (inspected.NetworkSettings?.Networks is { } networks && networks.TryGetValue(_options.NetworkName, out var endpoint)
            && !string.IsNullOrEmpty(endpoint.IPAddress))
            ip = endpoint.IPAddress;
        else if (inspected.HostConfig?.NetworkMode == "host")
            ip = _options.HostAddress; // a hostNetwork pod's sandbox: the pod's IP is the node's
        var state = inspected.State;
        return new ContainerObservation(
            inspected.ID,
            inspected.Image,
            state.Running,
            (int)state.ExitCode,
            ParseTime(state.StartedAt),
            ParseTime(state.FinishedAt),
            ip,
            state.OOMKilled,
            string.IsNullOrEmpty(state.Error) ? null : state.Error);
    }

    public async Task<ExecResult> ExecAsync(string containerId, IReadOnlyList<string> command, CancellationToken ct = default)
    {
        var created = await _client.Exec.ExecCreateContainerAsync(containerId, new ContainerExecCreateParameters
        {
            Cmd = command.ToList(),
            AttachStdout = true,
            AttachStderr = true,
        }, ct);
        using (var stream = await _client.Exec.StartAndAttachContainerExecAsync(created.ID, tty: false, ct))
        {
            var (stdout, stderr) = await stream.ReadOutputToEndAsync(ct);
            var inspected = await _client.Exec.InspectContainerExecAsync(created.ID, ct);
            return new ExecResult((int)inspected.ExitCode, stdout + stderr);
        }
    }

    public async Task StreamLogsAsync(string containerId, ContainerLogRequest request, Stream output, CancellationToken ct = default)
    {
        // opening the stream has a deadline; reading it lasts as long as the client stays
        using var setup = CancellationTokenSource.CreateLinkedTokenSource(ct);
        setup.CancelAfter(_options.RequestTimeout);
        var inspected = await _client.Containers.InspectContainerAsync(containerId, setup.Token);
        var parameters = new ContainerLogsParameters
        {
            ShowStdout = request.Stdout,
            ShowStderr = request.Stderr,
            Follow = request.Follow,
            Timestamps = request.Timestamps,
            Tail = request.TailLines is { } tail ? tail.ToString(CultureInfo.InvariantCulture) : "all",
            Since = request.SinceSeconds is { } since
                ? DateTimeOffset.UtcNow.AddSeconds(-since).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)
                : request.SinceTime is { } from
                    ? Math.Max(0, from.ToUnixTimeSeconds()).ToString(CultureInfo.InvariantCulture)
                    : null,
        };
        using var stream = await _client.Containers.GetContainerLogsAsync(containerId, inspected.Config?.Tty ?? false, parameters, setup.Token);
        setup.CancelAfter(Timeout.InfiniteTimeSpan);
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, ct);
            if (read.EOF) return;
            await output.WriteAsync(buffer.AsMemory(0, read.Count), ct);
            await output.FlushAsync(ct); // -f: each line as it comes
        }
    }

    public async Task<IExecSession> StartExecAsync(string containerId, ExecStart start, CancellationToken ct = default)
    {
        var created = await _client.Exec.ExecCreateContainerAsync(containerId, new ContainerExecCreateParameters
        {
            Cmd = start.Command.ToList(),
            AttachStdin = start.Stdin,
            AttachStdout = true,
            AttachStderr = true,
            Tty = start.Tty,
        }, ct);
        var stream = await _client.Exec.StartAndAttachContainerExecAsync(created.ID, start.Tty, ct);
        return new DockerExecSession(_client, created.ID, stream);
    }

    public async Task<IExecSession> AttachAsync(string containerId, bool stdin, CancellationToken ct = default)
    {
        // the stream is raw with a terminal and multiplexed without: Docker's choice follows the container's own Tty
        var inspected = await _client.Containers.InspectContainerAsync(containerId, ct);
        var tty = inspected.Config?.Tty ?? false;
        var stream = await _client.Containers.AttachContainerAsync(containerId, tty, new ContainerAttachParameters
        {
            Stream = true,
            Stdin = stdin && (inspected.Config?.OpenStdin ?? false),
            Stdout = true,
            Stderr = true,
        }, ct);
        return new DockerAttachSession(_client, containerId, stream);
    }

    /// <summary>A stream of Docker's multiplexed output and stdin: what exec and attach sessions share.</summary>
    private abstract class MultiplexedSession(MultiplexedStream stream) : IExecSession
    {
        public async Task<ExecOutput> ReadAsync(byte[] buffer, CancellationToken ct)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, ct);
            return new ExecOutput(read.Count, read.Target == MultiplexedStream.TargetStream.StandardError ? 2 : 1, read.EOF);
        }

        public Task WriteStdinAsync(byte[] buffer, int offset, int count, CancellationToken ct) => stream.WriteAsync(buffer, offset, count, ct);

        public void CloseStdin() => stream.CloseWrite();

        public abstract Task ResizeAsync(int width, int height, CancellationToken ct);

        public abstract Task<int> ExitCodeAsync(CancellationToken ct);

        public void Dispose() => stream.Dispose();
    }

    private sealed class DockerAttachSession(DockerClient client, string containerId, MultiplexedStream stream) : MultiplexedSession(stream)
    {
        public override Task ResizeAsync(int width, int height, CancellationToken ct) =>
            client.Containers.ResizeContainerTtyAsync(containerId, new ContainerResizeParameters { Width = width, Height = height }, ct);

        public override async Task<int> ExitCodeAsync(CancellationToken ct)
        {
            var inspected = await client.Containers.InspectContainerAsync(containerId, ct);
            return inspected.State.Running ? 0 : (int)inspected.State.ExitCode;
        }
    }

    private sealed class DockerExecSession(DockerClient client, string execId, MultiplexedStream stream) : MultiplexedSession(stream)
    {
        public override Task ResizeAsync(int width, int height, CancellationToken ct) =>
            client.Exec.ResizeContainerExecTtyAsync(execId, new ContainerResizeParameters { Width = width, Height = height }, ct);

        public override async Task<int> ExitCodeAsync(CancellationToken ct)
        {
            // output ends a moment before Docker records the exit code
            for (var i = 0; i < 50; i++)
            {
                var inspected = await client.Exec.InspectContainerExecAsync(execId, ct);
                if (!inspected.Running) return (int)inspected.ExitCode;
                await Task.Delay(20, ct);
            }
            return -1;
        }
    }

    public async Task<IReadOnlyList<string>> ListPodVolumeOwnersAsync(CancellationToken ct = default)
    {
        var volumes = await _client.Volumes.ListAsync(new VolumesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{ContainerLabels.Node}={_options.NodeName}"] = true },
            },
        }, ct);
        return (volumes.Volumes ?? []).Select(v => v.Labels is { } labels && labels.TryGetValue(ContainerLabels.PodUid, out var uid) ? uid : null).OfType<string>().Distinct().ToList();
    }

    public async Task RemovePodVolumesAsync(string podUid, CancellationToken ct = default)
    {
        var volumes = await _client.Volumes.ListAsync(new VolumesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool>
                {
                    [$"{ContainerLabels.Node}={_options.NodeName}"] = true,
                    [$"{ContainerLabels.PodUid}={podUid}"] = true,
                },
            },
        }, ct);
        foreach (var volume in volumes.Volumes ?? [])
        {
            // a secret's tmpfs goes first: removing the directory under it would fail
            if (!string.IsNullOrEmpty(volume.Mountpoint)) HostMounts.Unmount(volume.Mountpoint);
            _projectedDirectories.TryRemove(volume.Name, out _);
            try { await _client.Volumes.RemoveAsync(volume.Name, force: true, ct); }
            catch (DockerApiException e) { _log.LogWarning("Removing volume {Volume} failed: {Message}", volume.Name, e.Message); }
        }
    }

    /// <summary>Docker writes "0001-01-01T00:00:00Z" for "never".</summary>
    private static DateTime? ParseTime(string? value) =>
        DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)
        && t.Year > 1
            ? t
            : null;

    /// <summary>A deadline for a clean-up that must run even when the caller's work was cancelled.</summary>
    private CancellationTokenSource CleanupDeadline() => new(_options.RequestTimeout);

    public void Dispose() => _client.Dispose();
}
