using k8s.Models;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Config;

/// <summary>
/// The node's view of the ConfigMaps, Secrets and PersistentVolumeClaims (with their volumes) its pods reference (what the master's NodeGateway sends in
/// <see cref="PodConfigChanged"/>, and nothing else): an immutable snapshot swapped on every publish. The agent publishes;
/// container environments and configMap/secret/projected volumes read it. A name the snapshot does not hold does not
/// exist in the cluster (the gateway sends every referenced object before the pods that reference it).
/// </summary>
internal sealed class ConfigDirectory
{
    private volatile Snapshot _current = new(new Dictionary<string, V1ConfigMap>(), new Dictionary<string, V1Secret>(),
        new Dictionary<string, V1PersistentVolumeClaim>(), new Dictionary<string, V1PersistentVolume>(), -1);

    /// <summary>The generation of the newest published set (-1 before the first).</summary>
    public long Generation => _current.Generation;

    public void Publish(PodConfigChanged changed)
    {
        _current = new Snapshot(
            changed.ConfigMaps.ToDictionary(c => Key(c.Metadata.NamespaceProperty, c.Metadata.Name), StringComparer.Ordinal),
            changed.Secrets.ToDictionary(s => Key(s.Metadata.NamespaceProperty, s.Metadata.Name), StringComparer.Ordinal),
            (changed.Claims ?? []).ToDictionary(c => Key(c.Metadata.NamespaceProperty, c.Metadata.Name), StringComparer.Ordinal),
            (changed.Volumes ?? []).ToDictionary(v => v.Metadata.Name, StringComparer.Ordinal),
            changed.Generation);
    }

    public V1ConfigMap? ConfigMap(string? ns, string name) => _current.ConfigMaps.GetValueOrDefault(Key(ns, name));

    public V1Secret? Secret(string? ns, string name) => _current.Secrets.GetValueOrDefault(Key(ns, name));

    /// <summary>A PersistentVolumeClaim one of the node's pods uses.</summary>
    public V1PersistentVolumeClaim? Claim(string? ns, string name) => _current.Claims.GetValueOrDefault(Key(ns, name));

    /// <summary>The PersistentVolume such a claim is bound to.</summary>
    public V1PersistentVolume? Volume(string name) => _current.Volumes.GetValueOrDefault(name);

    private static string Key(string? ns, string name) => $"{ns ?? "default"}/{name}";

    private sealed record Snapshot(IReadOnlyDictionary<string, V1ConfigMap> ConfigMaps, IReadOnlyDictionary<string, V1Secret> Secrets,
        IReadOnlyDictionary<string, V1PersistentVolumeClaim> Claims, IReadOnlyDictionary<string, V1PersistentVolume> Volumes, long Generation);
}
