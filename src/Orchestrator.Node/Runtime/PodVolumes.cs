using k8s.Models;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// A pod's volumes as Docker mounts: hostPath is a bind of the node's path (set up and type-checked by
/// <see cref="HostPathVolumes"/>); emptyDir is a Docker volume named after the pod uid and volume (so all containers of
/// the pod share it and it outlives container restarts, like the kubelet's per-pod directory), mounted without Docker's
/// copy of the image's files (an emptyDir starts empty), or a tmpfs for <c>medium: Memory</c>. Each mount honours
/// <c>readOnly</c>, <c>mountPropagation</c> and <c>subPath</c>/<c>subPathExpr</c> (<see cref="SubPaths"/>). Other volume
/// kinds are not served yet and their mounts are skipped. configMap, secret, downwardAPI and projected volumes are binds
/// of the directories <see cref="AtomicWriter"/> fills, always read-only; a subPath into one binds the file it resolves to
/// (which, as in Kubernetes, no longer follows updates).
/// </summary>
internal static class PodVolumes
{
    public static string EmptyDirName(V1Pod pod, V1Volume volume) => $"orch-{pod.Metadata.Uid}-{volume.Name}";

    public static IEnumerable<V1Volume> EmptyDirsUsedBy(V1Pod pod, V1Container container) =>
        Mounted(pod, container).Select(m => m.Volume).Where(v => v.EmptyDir is not null && v.EmptyDir.Medium != "Memory").DistinctBy(v => v.Name);

    /// <summary>The configMap, secret, downwardAPI and projected volumes the container mounts.</summary>
    public static IEnumerable<V1Volume> ProjectedUsedBy(V1Pod pod, V1Container container) =>
        Mounted(pod, container).Select(m => m.Volume).Where(VolumeProjections.IsProjected).DistinctBy(v => v.Name);

    /// <summary>Sets up the pod's hostPath volumes (before its sandbox).</summary>
    public static void SetUpHostPaths(V1Pod pod)
    {
        foreach (var volume in pod.Spec.Volumes ?? [])
            if (volume.HostPath is not null) HostPathVolumes.SetUp(volume);
    }

    /// <summary>The container's binds. <paramref name="emptyDirPaths"/>: each emptyDir volume's directory on the node, by
    /// volume name (needed for a subPath into it); <paramref name="environment"/>: the container's variables, for
    /// subPathExpr. Throws <see cref="ContainerConfigException"/> as the kubelet fails a container's mounts.</summary>
    public static IList<string>? Binds(V1Pod pod, V1Container container, IReadOnlyDictionary<string, string>? emptyDirPaths = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var binds = new List<string>();
        foreach (var (mount, volume) in Mounted(pod, container))
        {
            var projected = VolumeProjections.IsProjected(volume);
            if (volume.HostPath is null && volume.EmptyDir is not { Medium: not "Memory" } && !projected) continue;
            var subPath = SubPathOf(mount, environment ?? new Dictionary<string, string>());
            string source;
            if (subPath.Length == 0 && projected)
                source = emptyDirPaths?.TryGetValue(volume.Name, out var projectedDir) == true
                    ? projectedDir
                    : throw new ContainerConfigException($"volume \"{volume.Name}\" of container \"{container.Name}\" is not set up");
            else if (subPath.Length == 0)
                source = volume.HostPath is { } hostPath ? hostPath.Path : EmptyDirName(pod, volume);
            else
            {
                var volumePath = volume.HostPath?.Path
                                 ?? (emptyDirPaths?.TryGetValue(volume.Name, out var dir) == true ? dir : null)
                                 ?? throw new ContainerConfigException($"failed to prepare subPath for volumeMount \"{mount.Name}\" of container \"{container.Name}\"");
                source = SubPaths.Prepare(volumePath, subPath, mount.Name, container.Name);
            }
            var options = new List<string>();
            // the kubelet mounts configMap, secret, downwardAPI and projected volumes read-only whatever the mount says
            if (mount.ReadOnlyProperty == true || projected) options.Add("ro");
            if (CheckRecursiveReadOnly(mount) is { } rro) throw new ContainerConfigException(rro);
            // a named volume: no copy of the image's files into it; a bind: the mount's propagation
            if (volume.EmptyDir is not null && subPath.Length == 0) options.Add("nocopy");
            else if (Propagation(mount.MountPropagation) is { } propagation) options.Add(propagation);
            binds.Add($"{source}:{mount.MountPath}{(options.Count > 0 ? ":" + string.Join(',', options) : "")}");
        }
        return binds.Count == 0 ? null : binds;
    }

    public static IDictionary<string, string>? MemoryEmptyDirs(V1Pod pod, V1Container container)
    {
        var tmpfs = new Dictionary<string, string>();
        foreach (var (mount, volume) in Mounted(pod, container).Where(m => m.Volume.EmptyDir is { Medium: "Memory" }))
        {
            if (!string.IsNullOrEmpty(mount.SubPath) || !string.IsNullOrEmpty(mount.SubPathExpr))
                throw new ContainerConfigException(
                    $"volumeMount \"{mount.Name}\" of container \"{container.Name}\": subPath into an emptyDir of medium Memory is not supported on this node");
            var options = new List<string>();
            if (volume.EmptyDir.SizeLimit is { } size) options.Add($"size={size.ToInt64()}");
            if (mount.ReadOnlyProperty == true) options.Add("ro");
            tmpfs[mount.MountPath] = string.Join(',', options);
        }
        return tmpfs.Count == 0 ? null : tmpfs;
    }

    /// <summary>subPath, or subPathExpr with $(VAR) from the container's environment (every variable must have a value).</summary>
    private static string SubPathOf(V1VolumeMount mount, IReadOnlyDictionary<string, string> environment)
    {
        if (string.IsNullOrEmpty(mount.SubPathExpr)) return mount.SubPath ?? "";
        var missing = new SortedSet<string>(StringComparer.Ordinal);
        var expanded = ContainerEnvironment.Expand(mount.SubPathExpr, new LookupRecordingMissing(environment, missing));
        if (missing.Count > 0) throw new ContainerConfigException($"missing value for {string.Join(", ", missing)}");
        return expanded;
    }

    /// <summary>None or unset: private; HostToContainer: rslave; Bidirectional: rshared (Docker's bind propagation).</summary>
    private static string? Propagation(string? mode) => mode switch
    {
        null or "None" => null,
        "HostToContainer" => "rslave",
        "Bidirectional" => "rshared",
        _ => throw new ContainerConfigException($"invalid MountPropagation mode: \"{mode}\""),
    };

    /// <summary>Docker 20.10 cannot make a bind recursively read-only: Enabled fails as the kubelet fails it on such a
    /// runtime; IfPossible falls back to a plain read-only mount, as there.</summary>
    private static string? CheckRecursiveReadOnly(V1VolumeMount mount) => mount.RecursiveReadOnly == "Enabled"
        ? $"failed to resolve recursive read-only mode: volume \"{mount.Name}\" requested recursive read-only mode, but it is not supported by the runtime"
        : null;

    private static IEnumerable<(V1VolumeMount Mount, V1Volume Volume)> Mounted(V1Pod pod, V1Container container)
    {
        var volumes = (pod.Spec.Volumes ?? []).ToDictionary(v => v.Name);
        foreach (var mount in container.VolumeMounts ?? [])
            if (volumes.TryGetValue(mount.Name, out var volume)) yield return (mount, volume);
    }

    /// <summary>A variable lookup that notes the names without a value (the kubelet's "missing value for …").</summary>
    private sealed class LookupRecordingMissing(IReadOnlyDictionary<string, string> inner, ISet<string> missing) : IReadOnlyDictionary<string, string>
    {
        public bool TryGetValue(string key, out string value)
        {
            if (inner.TryGetValue(key, out value!) && value.Length > 0) return true;
            missing.Add(key);
            value = "";
            return true;
        }

        public string this[string key] => TryGetValue(key, out var v) ? v : "";
        public IEnumerable<string> Keys => inner.Keys;
        public IEnumerable<string> Values => inner.Values;
        public int Count => inner.Count;
        public bool ContainsKey(string key) => inner.ContainsKey(key);
        public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => inner.GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
