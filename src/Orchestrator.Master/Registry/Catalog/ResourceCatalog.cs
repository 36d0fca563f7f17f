using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Catalog;

/// <summary>
/// The served resources: an immutable <see cref="CatalogSnapshot"/> swapped atomically whenever a source of
/// descriptions changes (YARP's configuration in miniature). The built-in kinds are one source, registered at start;
/// each CustomResourceDefinition is another, set and removed at run time. Readers — routing, discovery, OpenAPI, the
/// store — take <see cref="Current"/> once per request and never see a half-made change; <see cref="Changed"/> tells
/// the ones that cache what they derive from it.
/// </summary>
internal sealed class ResourceCatalog : IResourceCatalog
{
    public const string BuiltInSource = "built-in";

    private readonly object _gate = new();
    private readonly Dictionary<string, IReadOnlyList<ResourceDescription>> _sources = new(StringComparer.Ordinal);
    private CatalogSnapshot _current = CatalogSnapshot.Empty;

    public ResourceCatalog(IEnumerable<ResourceDescription> builtIns) => Set(BuiltInSource, builtIns.ToList());

    public CatalogSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Raised after every swap, with the new snapshot (on the thread that changed the catalog).</summary>
    public event Action<CatalogSnapshot>? Changed;

    /// <summary>Replaces what <paramref name="source"/> serves. A description whose group, version and plural another
    /// source already serves is refused (the first wins, as built-in kinds win over custom resources).</summary>
    public void Set(string source, IReadOnlyList<ResourceDescription> descriptions)
    {
        CatalogSnapshot next;
        lock (_gate)
        {
            var taken = _sources.Where(s => s.Key != source).SelectMany(s => s.Value)
                .Select(d => (d.Group, d.Version, d.Resource)).ToHashSet();
            var clash = descriptions.FirstOrDefault(d => taken.Contains((d.Group, d.Version, d.Resource)));
            if (clash is not null) throw new InvalidOperationException($"{clash} is already served");
            _sources[source] = descriptions;
            next = Swap();
        }
        Changed?.Invoke(next);
    }

    /// <summary>Stops serving what <paramref name="source"/> served; returns whether it served anything.</summary>
    public bool Remove(string source)
    {
        CatalogSnapshot next;
        lock (_gate)
        {
            if (!_sources.Remove(source)) return false;
            next = Swap();
        }
        Changed?.Invoke(next);
        return true;
    }

    /// <summary>The names of the sources serving something now.</summary>
    public IReadOnlyList<string> Sources
    {
        get
        {
            lock (_gate) return _sources.Keys.ToList();
        }
    }

    private CatalogSnapshot Swap()
    {
        // Built-in kinds first, then the others by group name (then source), the order kube-apiserver lists the groups
        // of equal priority in (every CRD group has the same one). Discovery lists groups in this order, and kubectl
        // gives an ambiguous short name to the resource of the group listed first.
        var all = _sources.OrderBy(s => s.Key == BuiltInSource ? 0 : 1)
            .ThenBy(s => s.Key == BuiltInSource ? "" : s.Value.FirstOrDefault()?.Group ?? "", StringComparer.Ordinal)
            .ThenBy(s => s.Key, StringComparer.Ordinal)
            .SelectMany(s => s.Value).ToList();
        var next = new CatalogSnapshot(all);
        Volatile.Write(ref _current, next);
        return next;
    }

    public IStoredResource? Find(string storeName) => Current.FindStored(storeName);

    public IStoredResource? FindByKind(string apiVersion, string kind) => Current.FindByKind(apiVersion, kind);

    public bool Serves(string group, string version) => Current.Serves(group, version);

    public IEnumerable<IStoredResource> Stored => Current.All.Where(d => d.Storage);

    public IKubernetesObject<V1ObjectMeta> Decode(string storeName, string json) =>
        (IKubernetesObject<V1ObjectMeta>)KubeObjects.Deserialize(json, Current.FindStored(storeName)?.ObjectType ?? typeof(CustomObject));

    public IKubernetesObject<V1ObjectMeta> Decode(string storeName, ReadOnlySpan<byte> utf8Json) =>
        (IKubernetesObject<V1ObjectMeta>)KubeObjects.Deserialize(utf8Json, Current.FindStored(storeName)?.ObjectType ?? typeof(CustomObject));
}
