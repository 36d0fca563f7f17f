using Akka.Actor;
using k8s.Models;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent;

/// <summary>A pull of a container's image ended (in the background; the supervisor keeps serving while it runs).</summary>
internal sealed record ImagePullFinished(string Container, string Image, ImagePulled? Pulled, string? Error, LocalImage? Local);

/// <summary>
/// The PodSupervisor's images (the kubelet's image manager): imagePullPolicy decides between the local store and a
/// pull; pulls run on the node's shared <see cref="ImagePuller"/> with the pod's imagePullSecrets; a failed pull is
/// ErrImagePull, then ImagePullBackOff until the back-off (10 s doubling to 5 min, per container) lets it try again.
/// One exception to Kubernetes, for images built on this node (no registry digest of their own name, such as the demo
/// stand-ins, also once pushed to a local registry): when a
/// pull of such an image fails, the local image is used and a Warning event says so; for the next 5 minutes it is used
/// without another pull attempt (the node's <see cref="ImagePuller"/> remembers it).
/// </summary>
internal sealed partial class PodSupervisor
{
    private ImagePuller _images = null!;

    /// <summary>The image when it is ready to run; null while it is pulled, in back-off, or cannot be had (the slot
    /// says why).</summary>
    private async Task<LocalImage?> EnsureImageAsync(V1Container spec, ContainerSlot slot)
    {
        if (slot.PullingImage is not null) return null;
        if (slot.PulledImage is { } pulled && slot.PulledFor == spec.Image)
        {
            slot.PulledImage = null;
            return pulled;
        }
        var reference = ImageReference.TryParse(spec.Image, out var invalid);
        if (reference is null)
        {
            var message = $"Failed to apply default image tag \"{spec.Image}\": {invalid}";
            if (slot.WaitingReason != "InvalidImageName") Event(spec.Name, "Warning", "InspectFailed", message);
            slot.WaitingReason = "InvalidImageName";
            slot.WaitingMessage = message;
            return null;
        }
        var policy = ImagePullPolicies.Effective(spec.Image, spec.ImagePullPolicy);
        var local = await _runtime.InspectImageAsync(spec.Image);
        if (local is not null && policy != ImagePullPolicies.Always)
        {
            Event(spec.Name, "Normal", "Pulled", $"Container image \"{spec.Image}\" already present on machine");
            return local;
        }
        if (local is not null && !local.CameFrom(reference) && _images.RecentFallback(spec.Image, DateTime.UtcNow) is { } failedAt)
        {
            Event(spec.Name, "Normal", "Pulled", $"Container image \"{spec.Image}\" already present on machine (built or loaded on this " +
                $"node; its pull failed {(DateTime.UtcNow - failedAt).TotalSeconds:0}s ago and is not tried again within {ImagePuller.FallbackMemory.TotalMinutes:0} min)");
            return local;
        }
        if (policy == ImagePullPolicies.Never)
        {
            var message = $"Container image \"{spec.Image}\" is not present with pull policy of Never";
            if (slot.WaitingReason != "ErrImageNeverPull") Event(spec.Name, "Warning", "ErrImageNeverPull", message);
            slot.WaitingReason = "ErrImageNeverPull";
            slot.WaitingMessage = message;
            return null;
        }
        StartPull(spec, slot, reference, local);
        return null;
    }

    private void StartPull(V1Container spec, ContainerSlot slot, ImageReference reference, LocalImage? local)
    {
        var ns = _pod.Metadata.NamespaceProperty ?? "default";
        var names = (_pod.Spec.ImagePullSecrets ?? []).Select(r => r.Name).Where(n => !string.IsNullOrEmpty(n)).ToList();
        var secrets = names.Select(n => _sources.Configs.Secret(ns, n)).OfType<V1Secret>().ToList();
        var missing = names.Where(n => _sources.Configs.Secret(ns, n) is null).ToList();
        if (missing.Count > 0)
            Event(null, "Warning", "FailedToRetrieveImagePullSecret",
                $"Unable to retrieve some image pull secrets ({string.Join(", ", missing)}); attempting to pull the image may not succeed.");
        var auths = RegistryCredentials.For(reference, secrets);
        slot.PullingImage = spec.Image;
        // the first pull waits as ContainerCreating; a pull tried again after its back-off keeps the last reason
        // (ImagePullBackOff), as the kubelet's status keeps its reason cache's entry until the next sync ends
        if (slot.ImagePullStep == 0) slot.ClearWaiting();
        Event(spec.Name, "Normal", "Pulling", $"Pulling image \"{spec.Image}\"");
        var image = spec.Image;
        var container = spec.Name;
        Task.Run(() => _images.PullAsync(image, auths)).PipeTo(Self,
            success: pulled => new ImagePullFinished(container, image, pulled, null, local),
            failure: e => new ImagePullFinished(container, image, null, e.GetBaseException().Message, local));
    }

    private void OnImagePullFinished(ImagePullFinished m)
    {
        var slot = Slot(m.Container);
        slot.PullingImage = null;
        if (m.Pulled is { } pulled)
        {
            slot.ImageMissing = false;
            slot.ImagePullStep = 0;
            slot.PulledImage = pulled.Image;
            slot.PulledFor = m.Image;
            Event(m.Container, "Normal", "Pulled", $"Successfully pulled image \"{m.Image}\" in {ImagePuller.GoDuration(pulled.Pulling)} " +
                $"({ImagePuller.GoDuration(pulled.IncludingWaiting)} including waiting). Image size: {pulled.Image.Size} bytes.");
        }
        else if (m.Local is { } built && ImageReference.TryParse(m.Image, out _) is { } pulledName && !built.CameFrom(pulledName))
        {
            slot.PulledImage = built;
            slot.PulledFor = m.Image;
            _images.FellBack(m.Image, DateTime.UtcNow);
            Event(m.Container, "Warning", "Failed", $"Failed to pull image \"{m.Image}\": {m.Error}; using the image present on machine, " +
                "which was built or loaded on this node (it has no registry digest of this name)");
        }
        else
        {
            var now = DateTime.UtcNow;
            Event(m.Container, "Warning", "Failed", $"Failed to pull image \"{m.Image}\": {m.Error}");
            Event(m.Container, "Warning", "Failed", "Error: ErrImagePull");
            slot.ImageMissing = true;
            slot.WaitingReason = "ErrImagePull";
            slot.WaitingMessage = $"Failed to pull image \"{m.Image}\": {m.Error}";
            slot.BackOffUntil = now + BackOffDelay(slot.ImagePullStep++);
            slot.BackOffReported = false;
            ReportStatus(); // ErrImagePull is seen before the back-off's ImagePullBackOff
        }
        Self.Tell(SyncPod.Instance);
    }

    /// <summary>Inside an image pull's back-off: ImagePullBackOff, with the kubelet's events once per back-off.</summary>
    private void ReportImagePullBackOff(V1Container spec, ContainerSlot slot)
    {
        slot.WaitingReason = "ImagePullBackOff";
        slot.WaitingMessage = $"Back-off pulling image \"{spec.Image}\"";
        if (slot.BackOffReported) return;
        slot.BackOffReported = true;
        Event(spec.Name, "Normal", "BackOff", $"Back-off pulling image \"{spec.Image}\"");
        Event(spec.Name, "Warning", "Failed", "Error: ImagePullBackOff");
    }

    /// <summary>The container status' imageID for a container made before this supervisor (adopted): the image's
    /// registry digest when the pod's image is the one it runs.</summary>
    private async Task ResolveStatusImageIdAsync(V1Container spec, ContainerSlot slot, ContainerObservation observed)
    {
        if (slot.StatusImageId is not null && slot.StatusImageFor == observed.ImageId) return;
        var local = await _runtime.InspectImageAsync(spec.Image);
        slot.StatusImageId = local is not null && local.Id == observed.ImageId
            ? local.StatusImageId(ImageReference.TryParse(spec.Image, out _))
            : $"docker://{observed.ImageId}";
        slot.StatusImageFor = observed.ImageId;
    }
}
