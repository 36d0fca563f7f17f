using Akka.Actor;
using Akka.Event;
using k8s.Models;
using Orchestrator.Node.Agent.Probes;
using Orchestrator.Node.Runtime;
using Orchestrator.Shared.Api;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Agent;

/// <summary>
/// Owns the containers of one pod on this node (the kubelet's pod worker): adopts the pod's existing sandbox and
/// containers, runs the pod's sandbox first (PodSupervisor.Sandbox.cs), creates and starts missing containers in it,
/// restarts exited ones per restartPolicy with the CrashLoopBackOff back-off, reports the pod's status and kubelet
/// events to its parent (the NodeAgent), and on <see cref="StopPod"/> stops (SIGTERM, grace period, SIGKILL) and
/// removes them, the sandbox last. It never decides whether the pod should exist — the NodeAgent does — and never
/// talks to the master directly. Each sync is level-triggered: it inspects the runtime and converges, whatever woke it;
/// while the NodeAgent finds the runtime down there is no sync (<see cref="RuntimeUnavailable"/>).
/// </summary>
internal sealed partial class PodSupervisor : ReceiveActor, IWithTimers
{
    private readonly IContainerRuntime _runtime;
    private readonly PodSupervisorSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, ContainerSlot> _slots = new();
    private readonly PodSources _sources;
    private V1Pod _pod;
    private DateTime _startTime;
    private bool _adopted;
    private bool _initialized;
    private V1PodStatus? _lastStatus;
    private string? _lastSentJson;
    /// <summary>The last sync failure reported as an event (FailedSync), until a sync succeeds.</summary>
    private string? _syncFailure;
    /// <summary>The NodeAgent found the runtime down: no sync until it says it is back (<see cref="RuntimeUnavailable"/>).</summary>
    private bool _runtimeDown;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(V1Pod pod, IContainerRuntime runtime, PodSupervisorSettings settings, PodSources? sources = null) =>
        Akka.Actor.Props.Create(() => new PodSupervisor(pod, runtime, settings, sources ?? PodSources.None));

    public PodSupervisor(V1Pod pod, IContainerRuntime runtime, PodSupervisorSettings settings, PodSources sources)
    {
        _sources = sources;
        _pod = pod;
        _runtime = runtime;
        _settings = settings;
        _startTime = pod.Status?.StartTime ?? DateTime.UtcNow;
        _lastStatus = pod.Status;
        _images = sources.Images ?? new ImagePuller(runtime, settings.ImagePulls);

        ReceiveAsync<SyncPod>(_ => SyncAsync());
        Receive<PodUpdated>(m =>
        {
            _pod = m.Pod;
            _volumesDue = true; // its labels, or a ConfigMap or Secret it uses, may have changed
            Self.Tell(SyncPod.Instance);
        });
        Receive<ResendPodStatus>(_ =>
        {
            _lastSentJson = null;
            Self.Tell(SyncPod.Instance);
        });
        Receive<RuntimeUnavailable>(_ => _runtimeDown = true);
        Receive<RuntimeAvailable>(_ =>
        {
            _runtimeDown = false;
            Self.Tell(SyncPod.Instance);
        });
        ReceiveAsync<StopPod>(StopAsync);
        Receive<ProbeTick>(_ => RunDueProbes());
        Receive<ProbeCompleted>(OnProbeCompleted);
        Receive<ImagePullFinished>(OnImagePullFinished);
    }

    private string PodKey => $"{_pod.Metadata.NamespaceProperty ?? "default"}/{_pod.Metadata.Name}";

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("sync", SyncPod.Instance, _settings.SyncInterval);
        Timers.StartPeriodicTimer("probe", ProbeTick.Instance, _settings.ProbeInterval);
        Self.Tell(SyncPod.Instance);
    }

    private async Task SyncAsync()
    {
        if (_runtimeDown) return; // nothing to learn from a runtime that does not answer, and nothing to report
        try
        {
            if (!_adopted)
            {
                // a pod no node has reported on yet (nothing of it to adopt but in a crash): its volumes are set up while
                // the runtime lists what a previous agent may have left of it (issue 19: one runtime call off its start)
                var volumes = NeverReported() && _pod.Metadata.DeletionTimestamp is null ? VolumesReadyAsync() : Task.FromResult(false);
                await Task.WhenAll(AdoptAsync(), volumes);
            }
            // the sandbox first; then init containers run to completion, one after another, before any app container starts
            await RefreshVolumesAsync();
            if (await EnsureSandboxAsync() && await SyncInitContainersAsync())
            {
                // the app containers side by side (each its own Docker calls); Docker serialises what it must
                var containers = _pod.Spec.Containers.Select(spec => (Spec: spec, Slot: Slot(spec.Name))).ToList();
                await Task.WhenAll(containers.Select(c => SyncContainerAsync(c.Spec, c.Slot)));
                await SyncEphemeralContainersAsync();
            }
            await ReleaseSandboxWhenFinishedAsync();
            _syncFailure = null;
        }
        catch (Exception e)
        {
            // the runtime may be briefly unavailable (or timed out): keep what we know, say so once, try again on the next
            // tick; a new error has the agent ask the runtime whether it is down (then syncs pause until it is back)
            if (_syncFailure != e.Message)
            {
                _log.Warning("Sync of pod {0} failed: {1}", PodKey, e.Message);
                Event(null, "Warning", "FailedSync", $"error syncing pod: {e.Message}");
                Context.Parent.Tell(new PodSyncFailed(_pod.Metadata.Uid, e.Message));
            }
            _syncFailure = e.Message;
        }
        ReportStatus();
    }

    /// <summary>The pod as the API server made it: no node has reported a status for it yet.</summary>
    private bool NeverReported() =>
        _lastStatus is null || (_lastStatus.ContainerStatuses is not { Count: > 0 } && _lastStatus.InitContainerStatuses is not { Count: > 0 }
                                && string.IsNullOrEmpty(_lastStatus.PodIP));

    private ContainerSlot Slot(string name) =>
        _slots.TryGetValue(name, out var slot) ? slot : _slots[name] = new ContainerSlot();

    /// <summary>Takes over the sandbox and containers a previous agent left for this pod; one per container name, the rest removed.</summary>
    private async Task AdoptAsync()
    {
        var all = await _runtime.ListContainersAsync(_pod.Metadata.Uid);
        await AdoptSandboxAsync(all.Where(c => c.IsSandbox).ToList());
        var existing = all.Where(c => !c.IsSandbox).ToList();
        var wanted = _pod.Spec.Containers.Concat(_pod.Spec.InitContainers ?? []).Select(c => c.Name)
            .Concat((_pod.Spec.EphemeralContainers ?? []).Select(c => c.Name)).ToHashSet();
        foreach (var group in existing.GroupBy(c => c.ContainerName))
        {
            var ordered = group.OrderByDescending(c => c.Running).ThenByDescending(c => c.CreatedAt).ToList();
            var keep = wanted.Contains(group.Key) ? ordered[0] : null;
            // the newest exited instance besides it stays as the previous one (kubectl logs --previous)
            var previous = keep is null ? null : ordered.Skip(1).FirstOrDefault(c => !c.Running);
            if (keep is not null)
            {
                var slot = Slot(group.Key);
                slot.Id = keep.Id;
                slot.RestartCount = keep.RestartCount;
                slot.HasRun = true;
                slot.PreviousId = previous?.Id;
                slot.SandboxId = keep.SandboxId;
                // app containers exist only once the init containers have completed
                if (_pod.Spec.Containers.Any(c => c.Name == group.Key)) _initialized = true;
                _log.Info("Adopted container {0} of pod {1} ({2})", group.Key, PodKey, keep.Id[..Math.Min(12, keep.Id.Length)]);
            }
            foreach (var extra in ordered.Where(c => c != keep && c != previous))
            {
                _log.Info("Removing duplicate container {0} of pod {1}", extra.Id, PodKey);
                await _runtime.RemoveContainerAsync(extra.Id);
            }
        }
        _adopted = true;
    }

    private async Task SyncContainerAsync(V1Container spec, ContainerSlot slot)
    {
        var now = DateTime.UtcNow;
        if (slot.PendingStart && slot.Id is { } created)
        {
            // created while the sandbox started (PodSupervisor.Sandbox.cs): now that it runs, start it
            slot.PendingStart = false;
            await StartCreatedAsync(spec, slot, created, now);
            return;
        }
        if (slot.Id is not null)
        {
            var observed = await _runtime.InspectContainerAsync(slot.Id);
            if (observed is null)
            {
                slot.Id = null; // removed behind our back: recreate it, counting a restart
                slot.Current = null;
            }
            else
            {
                slot.Current = observed;
                slot.ImageId = observed.ImageId;
                if (!string.IsNullOrEmpty(observed.ImageId)) await ResolveStatusImageIdAsync(spec, slot, observed);
                if (observed.Running) TrackProbes(spec, slot, observed);
                else slot.Probes = null;
                if (observed.Running || !ShouldRestart(observed.ExitCode)) { slot.ClearWaiting(); return; }
                await RecordCrashAsync(spec, slot, PodStatusBuilder.Terminated(observed), observed.StartedAt, observed.FinishedAt ?? now);
            }
        }

        if (now < slot.BackOffUntil && slot.ImageMissing) ReportImagePullBackOff(spec, slot);
        else if (now < slot.BackOffUntil)
        {
            slot.WaitingReason = "CrashLoopBackOff";
            slot.WaitingMessage = $"back-off {slot.BackOff.TotalSeconds:0}s restarting failed container={spec.Name} pod={_pod.Metadata.Name}_{_pod.Metadata.NamespaceProperty}({_pod.Metadata.Uid})";
        }
        else await CreateAndStartAsync(spec, slot, now);
    }

    private async Task CreateAndStartAsync(V1Container spec, ContainerSlot slot, DateTime now, string? pidNamespaceOf = null)
    {
        if (await CreateAsync(spec, slot, now, pidNamespaceOf) is { } id) await StartCreatedAsync(spec, slot, id, now);
    }

    /// <summary>Creates the container in the pod's sandbox once its image is ready; null when it cannot be created yet
    /// (the slot says why: pulling, back-off, a configuration error).</summary>
    private async Task<string?> CreateAsync(V1Container spec, ContainerSlot slot, DateTime now, string? pidNamespaceOf = null)
    {
        if (await EnsureImageAsync(spec, slot) is not { } image) return null;
        slot.ImageMissing = false;
        slot.ImagePullStep = 0;
        slot.ImageId = image.Id;
        slot.StatusImageId = image.StatusImageId(ImageReference.TryParse(spec.Image, out _));
        slot.StatusImageFor = image.Id;

        var restartCount = slot.HasRun ? slot.RestartCount + 1 : slot.RestartCount;
        string id;
        try
        {
            var environment = ResolveEnvironment(spec);
            id = await _runtime.CreateContainerAsync(new ContainerRequest(MountablePod(), spec, _settings.NodeName, _settings.HostAddress, restartCount,
                _sandbox?.Id, _podIp)
            {
                Environment = environment,
                PidNamespaceOf = pidNamespaceOf,
                // the image was inspected just now: its user goes along rather than a second inspect
                ImageUser = image.User is { } user ? new ImageUser(user) : null,
            });
        }
        catch (Exception e)
        {
            // the kubelet's CreateContainerConfigError (the spec cannot be run: a subPath out of its volume, runAsNonRoot
            // with a root image) or CreateContainerError (the runtime failed or timed out); tried again on the next sync
            var reason = e is ContainerConfigException ? "CreateContainerConfigError" : "CreateContainerError";
            if (slot.WaitingReason != reason || slot.WaitingMessage != e.Message) Event(spec.Name, "Warning", "Failed", $"Error: {e.Message}");
            slot.WaitingReason = reason;
            slot.WaitingMessage = e.Message;
            return null;
        }
        slot.Id = id;
        slot.SandboxId = _sandbox?.Id;
        slot.RestartCount = restartCount;
        slot.HasRun = true;
        Event(spec.Name, "Normal", "Created", $"Created container {spec.Name}");
        return id;
    }

    /// <summary>Starts a container <see cref="CreateAsync"/> made; a failed start is recorded as a crash (StartError).</summary>
    private async Task StartCreatedAsync(V1Container spec, ContainerSlot slot, string id, DateTime now)
    {
        try
        {
            await _runtime.StartContainerAsync(id);
        }
        catch (Exception e)
        {
            Event(spec.Name, "Warning", "Failed", $"Error: failed to start container \"{spec.Name}\": {e.Message}");
            var failed = new V1ContainerStateTerminated { ExitCode = 128, Reason = "StartError", Message = e.Message, FinishedAt = now, ContainerID = $"docker://{id}" };
            await RecordCrashAsync(spec, slot, failed, null, now);
            return;
        }
        Event(spec.Name, "Normal", "Started", $"Started container {spec.Name}");
        slot.ClearWaiting();
        slot.Current = await _runtime.InspectContainerAsync(id);
        if (slot.Current is { Running: true } started) TrackProbes(spec, slot, started);
    }

    /// <summary>The container's environment (the kubelet's makeEnvironmentVariables): ConfigMaps and Secrets from the
    /// node's view, the downward API, the service variables. Keys envFrom skips are reported on the pod, as the kubelet
    /// does; a missing reference throws <see cref="ContainerConfigException"/> (CreateContainerConfigError).</summary>
    private List<string> ResolveEnvironment(V1Container spec)
    {
        var services = _sources.Services is { } directory
            ? directory.EnvironmentFor(_pod.Metadata.NamespaceProperty ?? "default", _pod.Spec.EnableServiceLinks != false)
                .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
        var resolved = ContainerEnvironment.Resolve(_pod, spec,
            new EnvironmentSources(_settings.NodeName, _settings.HostAddress, _podIp, _sources.Configs, services, _sources.Allocatable));
        foreach (var warning in resolved.InvalidNameWarnings) Event(null, "Warning", "InvalidEnvironmentVariableNames", warning);
        return resolved.AsDockerEnv();
    }

    /// <summary>The container exited and will be restarted: keep its last state, remove it, start the back-off.</summary>
    private async Task RecordCrashAsync(V1Container spec, ContainerSlot slot, V1ContainerStateTerminated terminated, DateTime? startedAt, DateTime finishedAt)
    {
        // a container that ran long enough is healthy again: the back-off starts over (the kubelet uses 2 × max)
        if (startedAt is { } started && finishedAt - started >= 2 * _settings.MaxBackOff) slot.BackOffStep = 0;
        var delay = slot.BackOffStep == 0 ? TimeSpan.Zero : BackOffDelay(slot.BackOffStep - 1);
        slot.BackOffStep++;
        slot.BackOffUntil = finishedAt + delay;
        slot.BackOff = delay;
        slot.LastTerminated = terminated;
        await KeepAsPreviousAsync(slot);
        if (delay > TimeSpan.Zero)
            Event(spec.Name, "Warning", "BackOff", $"Back-off restarting failed container {spec.Name} in pod {_pod.Metadata.Name}_{_pod.Metadata.NamespaceProperty}({_pod.Metadata.Uid})");
    }

    /// <summary>The container's instance stays as the previous one (its logs); the one before it goes. The slot is
    /// then empty: the next sync creates the container again.</summary>
    private async Task KeepAsPreviousAsync(ContainerSlot slot)
    {
        if (slot.PreviousId is not null && slot.PreviousId != slot.Id) await _runtime.RemoveContainerAsync(slot.PreviousId);
        slot.PreviousId = slot.Id ?? slot.PreviousId;
        slot.Id = null;
        slot.SandboxId = null;
        slot.Current = null;
        slot.Probes = null;
    }

    /// <summary>10 s, 20 s, 40 s, … capped at 5 min (the kubelet's CrashLoopBackOff).</summary>
    private TimeSpan BackOffDelay(int step)
    {
        var ticks = _settings.InitialBackOff.Ticks * Math.Pow(2, Math.Clamp(step, 0, 30));
        return ticks >= _settings.MaxBackOff.Ticks ? _settings.MaxBackOff : TimeSpan.FromTicks((long)ticks);
    }

    private bool ShouldRestart(int exitCode) => (_pod.Spec.RestartPolicy ?? "Always") switch
    {
        "Never" => false,
        "OnFailure" => exitCode != 0,
        _ => true,
    };

    private async Task StopAsync(StopPod stop)
    {
        Timers.CancelAll();
        // the pod's own grace period, uncapped (deletionGracePeriodSeconds when the delete asked for another)
        var grace = TimeSpan.FromSeconds(Math.Max(0, _pod.Metadata.DeletionGracePeriodSeconds ?? _pod.Spec.TerminationGracePeriodSeconds ?? 30));
        var deadline = DateTime.UtcNow + grace;
        try
        {
            var running = _slots.Where(kv => kv.Value.Id is not null).ToList();
            foreach (var (name, _) in running) Event(name, "Normal", "Killing", $"Stopping container {name}");
            await Task.WhenAll(running.Select(async kv =>
            {
                var spec = _pod.Spec.Containers.FirstOrDefault(c => c.Name == kv.Key);
                // preStop runs inside the grace period; SIGTERM follows it, SIGKILL at the deadline
                if (spec?.Lifecycle?.PreStop is { } preStop && kv.Value.Current is { Running: true })
                    await PreStopHook.RunAsync(preStop, new ProbeTarget(kv.Value.Id!, _podIp, spec, _runtime), grace,
                        message => Event(kv.Key, "Warning", "FailedPreStopHook", message));
                var left = deadline - DateTime.UtcNow;
                // whole seconds (Docker's unit), rounded up so a quick preStop does not cost the container a second
                await _runtime.StopContainerAsync(kv.Value.Id!, TimeSpan.FromSeconds(Math.Max(0, Math.Ceiling(left.TotalSeconds - 0.05))));
                kv.Value.Current = await _runtime.InspectContainerAsync(kv.Value.Id!) ?? kv.Value.Current;
                kv.Value.ClearWaiting();
            }));
            // everything labelled with this pod, including containers we never adopted; the sandbox last
            var left = await _runtime.ListContainersAsync(_pod.Metadata.Uid);
            foreach (var c in left.Where(c => !c.IsSandbox))
                await _runtime.RemoveContainerAsync(c.Id);
            await RemoveSandboxesAsync(left.Where(c => c.IsSandbox));
            await _runtime.RemovePodVolumesAsync(_pod.Metadata.Uid);
            _log.Info("Stopped pod {0}", PodKey);
        }
        catch (Exception e)
        {
            // the NodeAgent's orphan sweep removes whatever is left
            _log.Warning("Stopping pod {0} failed: {1}", PodKey, e.Message);
            Event(null, "Warning", "FailedKillPod", $"error killing pod: {e.Message}");
        }
        if (stop.ReportFinalStatus)
        {
            // after the removal, so a pod gone from the API has no container left; always sent: the master completes
            // a graceful deletion on it (a status that still shows a running container does not complete it)
            _lastSentJson = null;
            ReportStatus();
        }
        Context.Stop(Self);
    }

    private void ReportStatus()
    {
        var views = _pod.Spec.Containers.Select(spec =>
        {
            var s = Slot(spec.Name);
            return new ContainerView(spec, s.Id, s.Current, s.StatusImageId ?? s.ImageId, s.RestartCount, s.LastTerminated, s.WaitingReason, s.WaitingMessage,
                Ready: s.Probes?.Ready ?? true, Started: s.Probes?.Started ?? true);
        }).ToList();
        var initViews = (_pod.Spec.InitContainers ?? []).Select(spec =>
        {
            var s = Slot(spec.Name);
            return new ContainerView(spec, s.Id, s.Current, s.StatusImageId ?? s.ImageId, s.RestartCount, s.LastTerminated, s.WaitingReason, s.WaitingMessage,
                Ready: s.Current is { Running: false, ExitCode: 0 }, Started: s.Current is { Running: true });
        }).ToList();
        var status = PodStatusBuilder.Build(_pod, views, _settings.HostAddress, _startTime, _lastStatus, DateTime.UtcNow, initViews,
            _podIp, sandboxReady: _sandbox is not null);
        if (_pod.Spec.EphemeralContainers is { Count: > 0 })
            status.EphemeralContainerStatuses = EphemeralViews().Select(PodStatusBuilder.ContainerStatus).ToList();
        if (status.Phase == "Running" && _lastStatus?.Phase is not "Running") Diagnostics.NodeMetrics.PodStarted(DateTime.UtcNow - _startTime);
        _lastStatus = status;
        var json = KubeObjects.Serialize(status);
        if (json == _lastSentJson) return;
        _lastSentJson = json;
        Context.Parent.Tell(new PodStatusReported(_settings.NodeName, _pod.Metadata.NamespaceProperty ?? "default",
            _pod.Metadata.Name, _pod.Metadata.Uid, status));
    }

    /// <summary>About one container, or with a null <paramref name="container"/> the pod (its sandbox).</summary>
    private void Event(string? container, string type, string reason, string message) =>
        Context.Parent.Tell(new NodeEventReported(_settings.NodeName,
            KubeletEvents.ForPod(_pod, container, type, reason, message, _settings.NodeName, DateTime.UtcNow)));

    /// <summary>Mutable, actor-private bookkeeping for one container name of the pod.</summary>
    private sealed class ContainerSlot
    {
        public string? Id;
        /// <summary>The sandbox the container <see cref="Id"/> joined.</summary>
        public string? SandboxId;
        public string? PreviousId;
        public ContainerObservation? Current;
        /// <summary><see cref="Id"/> was created while the sandbox started and is still to be started.</summary>
        public bool PendingStart;
        public string? ImageId;
        public int RestartCount;
        public bool HasRun;
        public int BackOffStep;
        public DateTime BackOffUntil;
        public TimeSpan BackOff;
        public bool ImageMissing;
        public int ImagePullStep;
        /// <summary>Set while the image is being pulled; the pulled image waits in <see cref="PulledImage"/>.</summary>
        public string? PullingImage;
        public LocalImage? PulledImage;
        public string? PulledFor;
        /// <summary>The image pull back-off's events were sent for the current back-off.</summary>
        public bool BackOffReported;
        /// <summary>The status' imageID (docker-pullable://repo@sha256:… or docker://sha256:…) of image <see cref="StatusImageFor"/>.</summary>
        public string? StatusImageId;
        public string? StatusImageFor;
        public V1ContainerStateTerminated? LastTerminated;
        public string? WaitingReason;
        public string? WaitingMessage;
        /// <summary>Probe state of the running container <see cref="ProbesFor"/>; null when it has none running.</summary>
        public ContainerProbes? Probes;
        public string? ProbesFor;

        public void ClearWaiting()
        {
            WaitingReason = null;
            WaitingMessage = null;
        }
    }
}
