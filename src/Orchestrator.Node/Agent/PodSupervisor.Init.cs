using k8s.Models;

namespace Orchestrator.Node.Agent;

/// <summary>
/// The PodSupervisor's init containers: run in order, each to completion (exit 0) before the next; a failed one is
/// restarted with the usual back-off unless the pod's restartPolicy is Never, in which case the pod fails.
/// App containers start only once all have completed.
/// </summary>
internal sealed partial class PodSupervisor
{
    private bool _initFailed;

    /// <summary>True when every init container has completed (or there are none).</summary>
    private async Task<bool> SyncInitContainersAsync()
    {
        if (_initialized) return true;
        if (_initFailed) return false;
        var now = DateTime.UtcNow;
        foreach (var spec in _pod.Spec.InitContainers ?? [])
        {
            var slot = Slot(spec.Name);
            if (slot.Id is not null)
            {
                var observed = await _runtime.InspectContainerAsync(slot.Id);
                if (observed is null) { slot.Id = null; slot.Current = null; }
                else
                {
                    slot.Current = observed;
                    slot.ImageId = observed.ImageId;
                    if (observed.Running) return false;
                    if (observed.ExitCode == 0) { slot.ClearWaiting(); continue; }
                    if (_pod.Spec.RestartPolicy == "Never")
                    {
                        _initFailed = true;
                        return false;
                    }
                    await RecordCrashAsync(spec, slot, PodStatusBuilder.Terminated(observed), observed.StartedAt, observed.FinishedAt ?? now);
                }
            }
            if (now < slot.BackOffUntil && slot.ImageMissing)
            {
                ReportImagePullBackOff(spec, slot);
                return false;
            }
            if (now < slot.BackOffUntil)
            {
                slot.WaitingReason = "CrashLoopBackOff";
                slot.WaitingMessage = $"back-off {slot.BackOff.TotalSeconds:0}s restarting failed init container={spec.Name} pod={_pod.Metadata.Name}";
                return false;
            }
            await CreateAndStartAsync(spec, slot, now);
            return false;
        }
        _initialized = true;
        return true;
    }
}
