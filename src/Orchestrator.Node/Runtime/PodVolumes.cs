using k8s.Models;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// A pod's volumes as Docker mounts: hostPath is a bind of the node's path; emptyDir is a Docker volume named
/// after the pod uid and volume (so all containers of the pod share it and it outlives container restarts, like
/// the kubelet's per-pod directory), or a tmpfs for <c>medium: Memory</c>. Other volume kinds are not served yet
/// and their mounts are skipped.
/// </summary>
internal static class PodVolumes
{
    public static string EmptyDirName(V1Pod pod, V1Volume volume) => $"orch-{pod.Metadata.Uid}-{volume.Name}";

    public static IEnumerable<V1Volume> EmptyDirsUsedBy(V1Pod pod, V1Container container) =>
        Mounted(pod, container).Select(m => m.Volume).Where(v => v.EmptyDir is not null && v.EmptyDir.Medium != "Memory").DistinctBy(v => v.Name);

    public static IList<string>? Binds(V1Pod pod, V1Container container)
    {
        var binds = new List<string>();
        foreach (var (mount, volume) in Mounted(pod, container))
        {
            var source = volume.HostPath is { } hostPath ? hostPath.Path
                : volume.EmptyDir is { Medium: not "Memory" } ? EmptyDirName(pod, volume)
                : null;
            if (source is null) continue;
            if (!string.IsNullOrEmpty(mount.SubPath) && volume.HostPath is not null) source = Path.Combine(source, mount.SubPath);
            binds.Add($"{source}:{mount.MountPath}{(mount.ReadOnlyProperty == true ? ":ro" : "")}");
        }
        return binds.Count == 0 ? null : binds;
    }

    public static IDictionary<string, string>? MemoryEmptyDirs(V1Pod pod, V1Container container)
    {
        var tmpfs = Mounted(pod, container).Where(m => m.Volume.EmptyDir is { Medium: "Memory" })
            .ToDictionary(m => m.Mount.MountPath, m => m.Volume.EmptyDir.SizeLimit is { } size ? $"size={size.ToInt64()}" : "");
        return tmpfs.Count == 0 ? null : tmpfs;
    }

    private static IEnumerable<(V1VolumeMount Mount, V1Volume Volume)> Mounted(V1Pod pod, V1Container container)
    {
        var volumes = (pod.Spec.Volumes ?? []).ToDictionary(v => v.Name);
        foreach (var mount in container.VolumeMounts ?? [])
            if (volumes.TryGetValue(mount.Name, out var volume)) yield return (mount, volume);
    }
}
