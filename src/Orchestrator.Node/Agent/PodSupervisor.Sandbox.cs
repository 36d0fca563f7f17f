using Akka.Event;
using k8s.Models;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent;

/// <summary>
/// The PodSupervisor's pod sandbox: the pause container that holds the pod's network namespace (IP, hostname, DNS,
/// published ports). It runs before any of the pod's containers, which join it; its IP is the pod's IP. Like the
/// kubelet: a sandbox that died (or was removed) means the pod's network is gone, so its containers are killed and
/// recreated — init containers run again — in a new sandbox, each counting a restart; a container crash keeps the
/// sandbox and the IP. A pod whose containers have all finished for good (restartPolicy) gives its sandbox back and
/// gets no new one.
/// </summary>
internal sealed partial class PodSupervisor
{
    private PodSandbox? _sandbox;
    private string? _podIp;
    private int _sandboxAttempt;
    private int _sandboxBackOffStep;
    private DateTime _sandboxBackOffUntil;
    /// <summary>The sandbox died after every container had finished: nothing will run again.</summary>
    private bool _sandboxFinal;
    /// <summary>The pod's volumes are set up on the node (hostPath checks); the last failure reported, until then.</summary>
    private bool _volumesReady;
    private string? _volumeFailure;
    private bool _volumesDue;
    private DateTime _volumesRefreshed;

    /// <summary>Adoption: the newest running sandbox stays; any other (dead, duplicate) is removed.</summary>
    private async Task AdoptSandboxAsync(IReadOnlyList<RuntimeContainer> sandboxes)
    {
        var keep = sandboxes.Where(s => s.Running).OrderByDescending(s => s.CreatedAt).FirstOrDefault();
        if (sandboxes.Count > 0) _sandboxAttempt = sandboxes.Max(s => s.RestartCount) + 1;
        if (keep is not null)
        {
            _sandbox = new PodSandbox(keep.Id, null);
            _log.Info("Adopted sandbox of pod {0} ({1})", PodKey, Short(keep.Id));
        }
        foreach (var other in sandboxes.Where(s => s != keep))
        {
            _log.Info("Removing stale sandbox {0} of pod {1}", Short(other.Id), PodKey);
            await _runtime.RemoveContainerAsync(other.Id);
        }
    }

    /// <summary>True when the pod's sandbox runs, so its containers may be synced; creates it when missing.</summary>
    private async Task<bool> EnsureSandboxAsync()
    {
        if (_sandboxFinal) return false;
        if (_sandbox is { } sandbox)
        {
            var observed = await _runtime.InspectContainerAsync(sandbox.Id);
            if (observed is { Running: true })
            {
                _podIp = observed.IpAddress ?? sandbox.Ip ?? _podIp;
                // containers a previous agent left in an earlier sandbox cannot reach the network: replace them
                await RetireStaleContainersAsync(sandbox.Id);
                return true;
            }
            _log.Info("Sandbox {0} of pod {1} is gone; killing its containers to recreate them", Short(sandbox.Id), PodKey);
            Event(null, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
        }
        // no running sandbox: whatever still runs of the pod lost its network
        await RetireStaleContainersAsync(null);
        if (_sandbox is { } dead)
        {
            await _runtime.RemoveContainerAsync(dead.Id);
            _sandbox = null;
        }
        if (AllContainersFinished())
        {
            _sandboxFinal = true;
            return false;
        }
        await RestartInitContainersAsync();

        var now = DateTime.UtcNow;
        if (now < _sandboxBackOffUntil || !await VolumesReadyAsync()) return false;
        var request = new SandboxRequest(_pod, _settings.NodeName, _settings.HostAddress, _sandboxAttempt++);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _sandbox = await RunSandboxCreatingContainersAsync(request, now);
                _podIp = _sandbox.Ip;
                _sandboxBackOffStep = 0;
                _log.Info("Started sandbox {0} of pod {1} with IP {2}", Short(_sandbox.Id), PodKey, _podIp ?? "(none)");
                return true;
            }
            catch (SandboxAddressTakenException) when (attempt < SandboxAttempts) { }
            catch (Exception e)
            {
                Event(null, "Warning", "FailedCreatePodSandBox", $"Failed to create pod sandbox: {e.Message}");
                _sandboxBackOffUntil = now + BackOffDelay(_sandboxBackOffStep++);
                return false;
            }
        }
    }

    /// <summary>An address taken between the runtime's look at the network and the start costs a new sandbox, twice at most.</summary>
    private const int SandboxAttempts = 3;

    /// <summary>Creates the sandbox and, while it starts, the pod's app containers joining it (issue 19: the two
    /// container creations overlap instead of following each other) — when no init container has to run first and the
    /// pod's IP is known before the start (their environment may carry it). The containers are started by the sync that
    /// follows. A sandbox that fails to start takes the containers made for it along, as if they had never been made.</summary>
    private async Task<PodSandbox> RunSandboxCreatingContainersAsync(SandboxRequest request, DateTime now)
    {
        var created = await _runtime.CreateSandboxAsync(request);
        var early = new List<(V1Container Spec, ContainerSlot Slot, int RestartCount, bool HasRun)>();
        Task creating = Task.CompletedTask;
        if (created.Ip is not null && (_initialized || (_pod.Spec.InitContainers?.Count ?? 0) == 0))
        {
            _sandbox = created; // the containers' network namespace
            _podIp = created.Ip;
            foreach (var spec in _pod.Spec.Containers)
            {
                var slot = Slot(spec.Name);
                if (slot.Id is null && slot.PullingImage is null && now >= slot.BackOffUntil) early.Add((spec, slot, slot.RestartCount, slot.HasRun));
            }
            creating = Task.WhenAll(early.Select(async e =>
            {
                try
                {
                    if (await CreateAsync(e.Spec, e.Slot, now) is not null) e.Slot.PendingStart = true;
                }
                catch (Exception) { } // the sync that follows creates it the usual way, and reports what fails
            }));
        }
        try
        {
            var started = _runtime.StartSandboxAsync(created);
            await Task.WhenAll(creating, started); // creating never throws: a failure here is the sandbox's start
            return started.Result;
        }
        catch
        {
            _sandbox = null;
            foreach (var (_, slot, restartCount, hasRun) in early.Where(e => e.Slot.PendingStart))
            {
                await _runtime.RemoveContainerAsync(slot.Id!);
                slot.Id = null;
                slot.SandboxId = null;
                slot.PendingStart = false;
                slot.RestartCount = restartCount;
                slot.HasRun = hasRun;
            }
            throw;
        }
    }

    /// <summary>The kubelet mounts a pod's volumes before its sandbox: until they can be set up, the pod waits in
    /// ContainerCreating and each new failure is a FailedMount event.</summary>
    private async Task<bool> VolumesReadyAsync()
    {
        if (_volumesReady) return true;
        try
        {
            await _runtime.PrepareVolumesAsync(MountablePod(), VolumeProjections.For(_pod, _sources.Configs, _sources.Allocatable, await PodTokensAsync()));
            _volumesReady = true;
            _volumesRefreshed = DateTime.UtcNow;
            _volumesDue = false;
            _volumeFailure = null;
            return true;
        }
        catch (VolumeSetupException e)
        {
            if (_volumeFailure != e.Message) Event(null, "Warning", "FailedMount", e.Message);
            _volumeFailure = e.Message;
            return false;
        }
    }

    /// <summary>While the pod runs, its configMap, secret, downwardAPI and projected volumes follow what they show (the
    /// kubelet's periodic remount): when the pod or its configuration changed, and at least every
    /// <see cref="VolumeRefreshInterval"/>. Only a changed payload is written (atomically); a failure is a FailedMount
    /// event and the volume keeps its files.</summary>
    private async Task RefreshVolumesAsync()
    {
        if (!_volumesReady && _sandbox is null) return; // set up with the sandbox
        if (!(_pod.Spec.Volumes ?? []).Any(VolumeProjections.IsProjected)) return;
        if (!_volumesDue && DateTime.UtcNow - _volumesRefreshed < VolumeRefreshInterval) return;
        _volumesDue = false;
        _volumesRefreshed = DateTime.UtcNow;
        try
        {
            await _runtime.PrepareVolumesAsync(MountablePod(), VolumeProjections.For(_pod, _sources.Configs, _sources.Allocatable, await PodTokensAsync()));
            _volumeFailure = null;
        }
        catch (VolumeSetupException e)
        {
            if (_volumeFailure != e.Message) Event(null, "Warning", "FailedMount", e.Message);
            _volumeFailure = e.Message;
        }
    }

    private static readonly TimeSpan VolumeRefreshInterval = TimeSpan.FromSeconds(30);

    /// <summary>The tokens of the pod's serviceAccountToken projections, fetched or refreshed when due (the refresh of the
    /// volumes runs at least every <see cref="VolumeRefreshInterval"/>, well within a token's 80%).</summary>
    private async Task<IReadOnlyDictionary<TokenKey, TokenResult>?> PodTokensAsync() =>
        _sources.Tokens is { } tokens && PodTokens.KeysOf(_pod).Any() ? await tokens.ForAsync(_pod, CancellationToken.None) : null;

    /// <summary>The pod as the runtime mounts it: persistentVolumeClaim and ephemeral volumes resolved to their volumes'
    /// directories (<see cref="ClaimVolumes"/>; throws <see cref="VolumeSetupException"/> while a claim cannot be mounted).</summary>
    private V1Pod MountablePod() => ClaimVolumes.Resolve(_pod, _sources.Configs, _settings.LocalPathRoot);

    /// <summary>A pod that has finished for good (Succeeded, or Failed without restarts) keeps no network, like the
    /// kubelet's: its sandbox goes and its address returns to the node's range (a node's /24 would otherwise fill up
    /// with completed Job pods). The status keeps the pod IP it had.</summary>
    private async Task ReleaseSandboxWhenFinishedAsync()
    {
        if (_sandbox is not { } sandbox || !(_initFailed || AllContainersFinished())) return;
        _log.Info("Pod {0} has finished; removing its sandbox {1}", PodKey, Short(sandbox.Id));
        await _runtime.StopContainerAsync(sandbox.Id, TimeSpan.FromSeconds(2));
        await _runtime.RemoveContainerAsync(sandbox.Id);
        _sandbox = null;
        _sandboxFinal = true;
    }

    /// <summary>Stops the containers not in <paramref name="sandboxId"/> (all of them when null) and keeps each as the
    /// previous instance, so the next sync creates it again in the current sandbox; one that has finished for good
    /// (restartPolicy says no restart) stays as it ended.</summary>
    private async Task RetireStaleContainersAsync(string? sandboxId)
    {
        var grace = TimeSpan.FromSeconds(Math.Max(0, _pod.Spec.TerminationGracePeriodSeconds ?? 30));
        foreach (var (name, slot) in _slots)
        {
            if (slot.Id is null || (sandboxId is not null && slot.SandboxId == sandboxId)) continue;
            var observed = await _runtime.InspectContainerAsync(slot.Id);
            if (observed is { Running: true })
            {
                Event(name, "Normal", "Killing", $"Stopping container {name}");
                await _runtime.StopContainerAsync(slot.Id, grace);
                observed = await _runtime.InspectContainerAsync(slot.Id);
            }
            if (observed is { Running: false } && FinishedForGood(name, observed))
            {
                slot.Current = observed;
                continue;
            }
            if (observed is { StartedAt: not null }) slot.LastTerminated = PodStatusBuilder.Terminated(observed);
            await KeepAsPreviousAsync(slot);
        }
    }

    /// <summary>An app container that exited and will not be restarted, or an init container that completed.</summary>
    private bool FinishedForGood(string name, ContainerObservation exited) =>
        _pod.Spec.Containers.Any(c => c.Name == name) ? !ShouldRestart(exited.ExitCode) : exited.ExitCode == 0;

    private bool AllContainersFinished() => _pod.Spec.Containers.All(spec =>
        _slots.TryGetValue(spec.Name, out var slot) && slot.Id is not null && slot.Current is { Running: false } exited
        && !ShouldRestart(exited.ExitCode));

    /// <summary>A new sandbox runs the init containers again (Kubernetes does): completed ones become previous instances.</summary>
    private async Task RestartInitContainersAsync()
    {
        foreach (var spec in _pod.Spec.InitContainers ?? [])
            if (_slots.TryGetValue(spec.Name, out var slot) && slot.Id is not null)
            {
                if (slot.Current is { StartedAt: not null } done) slot.LastTerminated = PodStatusBuilder.Terminated(done);
                await KeepAsPreviousAsync(slot);
            }
        if ((_pod.Spec.InitContainers?.Count ?? 0) > 0) _initialized = false;
    }

    /// <summary>Stops then removes the pod's sandboxes, after its containers are gone (graceful termination's last step).</summary>
    private async Task RemoveSandboxesAsync(IEnumerable<RuntimeContainer> sandboxes)
    {
        foreach (var sandbox in sandboxes)
        {
            await _runtime.StopContainerAsync(sandbox.Id, TimeSpan.FromSeconds(2)); // pause exits on SIGTERM at once
            await _runtime.RemoveContainerAsync(sandbox.Id);
        }
        _sandbox = null;
    }

    private static string Short(string id) => id[..Math.Min(12, id.Length)];
}
