using k8s;
using k8s.Models;

namespace Orchestrator.Node.Agent;

/// <summary>
/// The PodSupervisor's ephemeral containers (kubectl debug): each is started once, after the app containers, in the
/// pod's network namespace — with targetContainerName in that container's PID namespace as well — and never
/// restarted; its status is reported in status.ephemeralContainerStatuses.
/// </summary>
internal sealed partial class PodSupervisor
{
    private async Task SyncEphemeralContainersAsync()
    {
        foreach (var ephemeral in _pod.Spec.EphemeralContainers ?? [])
        {
            var spec = AsContainer(ephemeral);
            var slot = Slot(spec.Name);
            if (slot.HasRun)
            {
                if (slot.Id is not null && slot.Current is not { Running: false })
                    slot.Current = await _runtime.InspectContainerAsync(slot.Id) ?? slot.Current;
                continue;
            }
            string? target = null;
            if (ephemeral.TargetContainerName is { Length: > 0 } targetName)
            {
                // the target's process namespace exists only while it runs: wait for it
                if (!_slots.TryGetValue(targetName, out var targetSlot) || targetSlot is not { Id: not null, Current.Running: true })
                {
                    slot.WaitingReason = "ContainerCreating";
                    slot.WaitingMessage = $"waiting for the target container {targetName} to run";
                    continue;
                }
                target = targetSlot.Id;
            }
            await CreateAndStartAsync(spec, slot, DateTime.UtcNow, target);
        }
    }

    /// <summary>An ephemeral container's fields are a container's; targetContainerName is the supervisor's business.</summary>
    private static V1Container AsContainer(V1EphemeralContainer ephemeral) =>
        KubernetesJson.Deserialize<V1Container>(KubernetesJson.Serialize(ephemeral));

    private IReadOnlyList<ContainerView> EphemeralViews() => (_pod.Spec.EphemeralContainers ?? []).Select(ephemeral =>
    {
        var s = Slot(ephemeral.Name);
        return new ContainerView(AsContainer(ephemeral), s.Id, s.Current, s.StatusImageId ?? s.ImageId, s.RestartCount, s.LastTerminated,
            s.WaitingReason, s.WaitingMessage, Ready: false, Started: s.Current is { Running: true });
    }).ToList();
}
