using System.Text;
using k8s.Models;
using Orchestrator.Node.Config;

namespace Orchestrator.Node.Runtime;

/// <summary>One file of a projected volume: its path inside the volume, content and permission bits.</summary>
internal sealed record ProjectedFile(string Path, byte[] Content, int Mode);

/// <summary>The files one configMap, secret, downwardAPI or projected volume holds now. <paramref name="Tmpfs"/>: kept in
/// memory (secret and projected volumes, as the kubelet does), never on the node's disk. <paramref name="FsGroup"/>: the
/// pod's fsGroup, which owns the files.</summary>
internal sealed record ProjectedVolume(string Name, bool Tmpfs, IReadOnlyList<ProjectedFile> Files, long? FsGroup = null)
{
    /// <summary>File names only: a Secret's values never reach a log.</summary>
    public override string ToString() => $"ProjectedVolume {{ Name = {Name}, Tmpfs = {Tmpfs}, Files = [{string.Join(", ", Files.Select(f => f.Path))}] }}";
}

/// <summary>
/// The content of a pod's configMap, secret, downwardAPI and projected volumes, as the kubelet's volume plugins make
/// their payload (MakePayload, CollectData): every key, or the <c>items</c> (key → path, with <c>mode</c>), with
/// <c>defaultMode</c> (0644); a missing non-optional ConfigMap, Secret or key throws <see cref="VolumeSetupException"/>
/// with the kubelet's message (FailedMount; the pod waits in ContainerCreating until it appears); an optional one gives
/// an empty volume or skips the key.
/// </summary>
internal static class VolumeProjections
{
    public const int DefaultMode = 0x1A4; // 0644

    public static bool IsProjected(V1Volume volume) =>
        volume.ConfigMap is not null || volume.Secret is not null || volume.DownwardAPI is not null || volume.Projected is not null;

    /// <summary>The pod's projected volumes, each with its files now.</summary>
    /// <param name="tokens">the tokens of the pod's serviceAccountToken projections (<see cref="PodTokens"/>), each a
    /// token or why there is none</param>
    public static List<ProjectedVolume> For(V1Pod pod, ConfigDirectory configs, IReadOnlyDictionary<string, ResourceQuantity>? allocatable,
        IReadOnlyDictionary<TokenKey, TokenResult>? tokens = null) =>
        (pod.Spec.Volumes ?? []).Where(IsProjected).Select(v => For(pod, v, configs, allocatable, tokens)).ToList();

    public static ProjectedVolume For(V1Pod pod, V1Volume volume, ConfigDirectory configs, IReadOnlyDictionary<string, ResourceQuantity>? allocatable,
        IReadOnlyDictionary<TokenKey, TokenResult>? tokens = null)
    {
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        var files = new Dictionary<string, ProjectedFile>(StringComparer.Ordinal);
        var fsGroup = pod.Spec.SecurityContext?.FsGroup;
        try
        {
            if (volume.ConfigMap is { } cm)
            {
                AddConfigMap(files, ns, cm.Name, cm.Items, cm.DefaultMode ?? DefaultMode, cm.Optional == true, configs);
                return new ProjectedVolume(volume.Name, false, Sorted(files), fsGroup);
            }
            if (volume.Secret is { } secret)
            {
                AddSecret(files, ns, secret.SecretName, secret.Items, secret.DefaultMode ?? DefaultMode, secret.Optional == true, configs);
                return new ProjectedVolume(volume.Name, true, Sorted(files), fsGroup);
            }
            if (volume.DownwardAPI is { } downward)
            {
                AddDownward(files, pod, downward.Items, downward.DefaultMode ?? DefaultMode, allocatable);
                return new ProjectedVolume(volume.Name, false, Sorted(files), fsGroup);
            }
        }
        catch (ProjectionException e) { throw new VolumeSetupException(volume.Name, e.Message); }

        // projected: every source, each failure collected (the kubelet's aggregate: one alone, several as "[a, b]")
        var projected = volume.Projected!;
        var mode = projected.DefaultMode ?? DefaultMode;
        var errors = new List<string>();
        foreach (var source in projected.Sources ?? [])
        {
            try
            {
                if (source.ConfigMap is { } cm) AddConfigMap(files, ns, cm.Name, cm.Items, mode, cm.Optional == true, configs);
                else if (source.Secret is { } secret) AddSecret(files, ns, secret.Name, secret.Items, mode, secret.Optional == true, configs);
                else if (source.DownwardAPI is { } downward) AddDownward(files, pod, downward.Items, mode, allocatable);
                else if (source.ServiceAccountToken is { } projection) AddToken(files, pod, projection, mode, tokens);
                else if (source.ClusterTrustBundle is not null) throw new ProjectionException("clusterTrustBundle projections are not supported");
            }
            catch (ProjectionException e) { errors.Add(e.Message); }
        }
        if (errors.Count > 0) throw new VolumeSetupException(volume.Name, errors.Count == 1 ? errors[0] : $"[{string.Join(", ", errors)}]");
        return new ProjectedVolume(volume.Name, true, Sorted(files), fsGroup);
    }

    private static List<ProjectedFile> Sorted(Dictionary<string, ProjectedFile> files) =>
        files.Values.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();

    private static void AddConfigMap(Dictionary<string, ProjectedFile> files, string ns, string name, IList<V1KeyToPath>? items, int mode,
        bool optional, ConfigDirectory configs)
    {
        var cm = configs.ConfigMap(ns, name);
        if (cm is null && !optional) throw new ProjectionException($"configmap \"{name}\" not found");
        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, value) in cm?.Data ?? new Dictionary<string, string>()) data[key] = Encoding.UTF8.GetBytes(value);
        foreach (var (key, value) in cm?.BinaryData ?? new Dictionary<string, byte[]>()) data.TryAdd(key, value);
        Add(files, data, items, mode, optional, key => $"configmap references non-existent config key: {key}");
    }

    private static void AddSecret(Dictionary<string, ProjectedFile> files, string ns, string name, IList<V1KeyToPath>? items, int mode,
        bool optional, ConfigDirectory configs)
    {
        var secret = configs.Secret(ns, name);
        if (secret is null && !optional) throw new ProjectionException($"secret \"{name}\" not found");
        var data = new Dictionary<string, byte[]>(secret?.Data ?? new Dictionary<string, byte[]>(), StringComparer.Ordinal);
        Add(files, data, items, mode, optional, key => $"references non-existent secret key: {key}");
    }

    private static void Add(Dictionary<string, ProjectedFile> files, Dictionary<string, byte[]> data, IList<V1KeyToPath>? items, int mode,
        bool optional, Func<string, string> missingKey)
    {
        if (items is not { Count: > 0 })
        {
            foreach (var (key, value) in data) files[key] = new ProjectedFile(key, value, mode);
            return;
        }
        foreach (var item in items)
        {
            if (!data.TryGetValue(item.Key, out var value))
            {
                if (optional) continue;
                throw new ProjectionException(missingKey(item.Key));
            }
            var path = CleanPath(item.Path);
            files[path] = new ProjectedFile(path, value, item.Mode ?? mode);
        }
    }

    private static void AddToken(Dictionary<string, ProjectedFile> files, V1Pod pod, V1ServiceAccountTokenProjection projection, int mode,
        IReadOnlyDictionary<TokenKey, TokenResult>? tokens)
    {
        var key = PodTokens.KeyOf(pod, projection);
        if (tokens is null || !tokens.TryGetValue(key, out var result)) throw new ProjectionException("failed to fetch token: no token was requested");
        if (result.Token is not { } token) throw new ProjectionException(result.Error ?? "failed to fetch token");
        var path = CleanPath(projection.Path);
        files[path] = new ProjectedFile(path, Encoding.UTF8.GetBytes(token), mode);
    }

    private static void AddDownward(Dictionary<string, ProjectedFile> files, V1Pod pod, IList<V1DownwardAPIVolumeFile>? items, int mode,
        IReadOnlyDictionary<string, ResourceQuantity>? allocatable)
    {
        foreach (var item in items ?? [])
        {
            string value;
            if (item.FieldRef is { } fieldRef)
            {
                value = fieldRef.FieldPath is "spec.nodeName" or "spec.serviceAccountName" || fieldRef.FieldPath.StartsWith("status.", StringComparison.Ordinal)
                    ? throw new ProjectionException($"unsupported fieldPath: {fieldRef.FieldPath}")
                    : ContainerEnvironment.FieldValue(pod, fieldRef.FieldPath, "", "", "") ?? throw new ProjectionException($"unsupported fieldPath: {fieldRef.FieldPath}");
            }
            else if (item.ResourceFieldRef is { } resourceRef)
            {
                var container = pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []).FirstOrDefault(c => c.Name == resourceRef.ContainerName)
                                ?? throw new ProjectionException($"container {resourceRef.ContainerName} not found");
                try { value = ContainerEnvironment.ResourceValue(resourceRef, container, allocatable); }
                catch (ContainerConfigException e) { throw new ProjectionException(e.Message); }
            }
            else continue;
            var path = CleanPath(item.Path);
            files[path] = new ProjectedFile(path, Encoding.UTF8.GetBytes(value), item.Mode ?? mode);
        }
    }

    /// <summary>filepath.Clean of a relative path (validation refuses absolute paths and "..").</summary>
    private static string CleanPath(string path) =>
        string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != "."));

    private sealed class ProjectionException(string message) : Exception(message);
}
