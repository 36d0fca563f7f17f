using k8s;
using k8s.Models;
using Orchestrator.Node.Config;
using Orchestrator.Shared.Api;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// A pod's persistentVolumeClaim and ephemeral volumes as the node mounts them: each claim (from the node's
/// <see cref="ConfigDirectory"/>, what the master sends) must be bound to a volume this node can reach — a hostPath or
/// local volume — and the pod's volume becomes a hostPath of that directory, so the binds, subPaths and checks of
/// hostPath serve it. A local-path volume's directory (under this node's <c>LocalPathRoot</c>) is made on first use,
/// open to every user as k3s makes it. <c>readOnly</c> on the claim makes every mount of it read-only. Failures are the
/// kubelet's FailedMount messages; the pod waits in ContainerCreating.
/// </summary>
internal static class ClaimVolumes
{
    public const string LocalPathProvisioner = "rancher.io/local-path";

    /// <summary>The pod unchanged when it has no claims; otherwise a copy with its claims resolved.</summary>
    public static V1Pod Resolve(V1Pod pod, ConfigDirectory configs, string? localPathRoot)
    {
        if (pod.Spec?.Volumes?.Any(v => v.PersistentVolumeClaim is not null || v.Ephemeral is not null) != true) return pod;
        var resolved = KubeObjects.Clone(pod);
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        for (var i = 0; i < resolved.Spec.Volumes.Count; i++)
        {
            var volume = resolved.Spec.Volumes[i];
            if (volume.PersistentVolumeClaim is null && volume.Ephemeral is null) continue;
            var claimName = volume.PersistentVolumeClaim?.ClaimName ?? $"{pod.Metadata.Name}-{volume.Name}";
            var claim = configs.Claim(ns, claimName)
                        ?? throw new VolumeSetupException(volume.Name, $"persistentvolumeclaim \"{claimName}\" not found");
            if (string.IsNullOrEmpty(claim.Spec?.VolumeName))
                throw new VolumeSetupException(volume.Name, $"error processing PVC {ns}/{claimName}: PVC is not bound");
            var pv = configs.Volume(claim.Spec.VolumeName)
                     ?? throw new VolumeSetupException(volume.Name, $"persistentvolume \"{claim.Spec.VolumeName}\" not found");
            if (pv.Spec?.ClaimRef?.Uid is { Length: > 0 } uid && uid != claim.Metadata.Uid)
                throw new VolumeSetupException(volume.Name, $"error processing PVC {ns}/{claimName}: volume \"{pv.Metadata.Name}\" is bound to another claim");
            var path = pv.Spec?.HostPath?.Path ?? pv.Spec?.Local?.Path
                       ?? throw new VolumeSetupException(volume.Name,
                           $"PersistentVolume \"{pv.Metadata.Name}\" has a volume source this node cannot mount (only hostPath and local)");
            var type = pv.Spec.HostPath?.Type ?? "Directory"; // a local volume's path must exist
            if (IsLocalPath(pv, localPathRoot)) EnsureLocalPathDirectory(volume.Name, path);
            var readOnly = volume.PersistentVolumeClaim?.ReadOnlyProperty == true;
            resolved.Spec.Volumes[i] = new V1Volume { Name = volume.Name, HostPath = new V1HostPathVolumeSource { Path = path, Type = type } };
            if (readOnly)
                foreach (var mount in AllContainers(resolved.Spec).SelectMany(c => c.VolumeMounts ?? []).Where(m => m.Name == volume.Name))
                    mount.ReadOnlyProperty = true;
        }
        return resolved;
    }

    /// <summary>A volume this node's local-path provisioner made: its directory sits right under the node's root.</summary>
    public static bool IsLocalPath(V1PersistentVolume pv, string? localPathRoot) =>
        localPathRoot is not null && pv.Metadata.Annotations?.TryGetValue("pv.kubernetes.io/provisioned-by", out var by) == true &&
        by == LocalPathProvisioner && pv.Spec?.HostPath?.Path is { } path &&
        Path.GetDirectoryName(path) == localPathRoot.TrimEnd('/') && Path.GetFileName(path).StartsWith("pvc-", StringComparison.Ordinal);

    private static void EnsureLocalPathDirectory(string volume, string path)
    {
        if (Directory.Exists(path)) return;
        try
        {
            Directory.CreateDirectory(path);
            // k3s' local-path-provisioner makes 0777 directories: a container's non-root user may write its volume
            File.SetUnixFileMode(path, (UnixFileMode)0x1FF);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VolumeSetupException(volume, $"cannot create the volume's directory {path}: {e.Message}");
        }
    }

    /// <summary>Removes a local-path volume's directory (reclaim Delete); null when it is gone, else why not. Only a
    /// directory this node's provisioner made is touched.</summary>
    public static string? DeleteLocalPath(V1PersistentVolume pv, string? localPathRoot)
    {
        if (!IsLocalPath(pv, localPathRoot))
            return $"the volume's path {pv.Spec?.HostPath?.Path} is not a local-path directory of this node ({localPathRoot ?? "none"})";
        try
        {
            var path = pv.Spec!.HostPath.Path;
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"failed to delete volume {pv.Metadata.Name}: {e.Message}";
        }
    }

    private static IEnumerable<V1Container> AllContainers(V1PodSpec spec) => (spec.InitContainers ?? []).Concat(spec.Containers ?? []);
}
