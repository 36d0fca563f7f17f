using System.Security.Cryptography;
using System.Text;

namespace Orchestrator.Master.Registry.Catalog;

/// <summary>
/// The resources served at one moment, with the lookups routing and discovery need. Immutable: a change of the
/// catalog makes a new snapshot. <see cref="Hash"/> changes with every change of what discovery shows (kubectl
/// caches discovery by it).
/// </summary>
internal sealed class CatalogSnapshot
{
    public static readonly CatalogSnapshot Empty = new([]);

    private readonly Dictionary<(string Group, string Version, string Resource), ResourceDescription> _byPath;
    private readonly Dictionary<(string ApiVersion, string Kind), ResourceDescription> _byKind;
    private readonly Dictionary<string, ResourceDescription> _byStoreName;

    public CatalogSnapshot(IReadOnlyList<ResourceDescription> all)
    {
        All = all;
        _byPath = all.GroupBy(d => (d.Group, d.Version, d.Resource)).ToDictionary(g => g.Key, g => g.First());
        _byKind = all.GroupBy(d => (d.GroupVersion, d.Kind)).ToDictionary(g => g.Key, g => g.First());
        _byStoreName = all.Where(d => d.Storage).GroupBy(d => d.StoreName).ToDictionary(g => g.Key, g => g.First());
        Groups = all.Where(d => d.Group.Length > 0).GroupBy(d => d.Group)
            .Select(g => new ServedGroup(g.Key, g.Select(d => d.Version).Distinct().ToList()))
            .ToList();
        Hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", all.Select(Fingerprint)))));
    }

    /// <summary>Every served resource in every served version, built-in kinds first.</summary>
    public IReadOnlyList<ResourceDescription> All { get; }

    /// <summary>The non-core groups, each with its versions, preferred first.</summary>
    public IReadOnlyList<ServedGroup> Groups { get; }

    public string Hash { get; }

    public ResourceDescription? Find(string group, string version, string resource) =>
        _byPath.GetValueOrDefault((group, version, resource));

    public ResourceDescription? FindByKind(string apiVersion, string kind) => _byKind.GetValueOrDefault((apiVersion, kind));

    /// <summary>The storage version's description of a store name.</summary>
    public ResourceDescription? FindStored(string storeName) => _byStoreName.GetValueOrDefault(storeName);

    public IEnumerable<ResourceDescription> InGroupVersion(string group, string version) =>
        All.Where(d => d.Group == group && d.Version == version);

    public bool Serves(string group, string version) => All.Any(d => d.Group == group && d.Version == version);

    private static string Fingerprint(ResourceDescription d) =>
        string.Join("|", d.Group, d.Version, d.Resource, d.Kind, d.Singular, d.Namespaced, string.Join(",", d.Verbs),
            string.Join(",", d.ShortNames), string.Join(",", d.Categories),
            string.Join(",", d.Subresources.Select(s => s.Name)), d.Schema?.ToJsonString() ?? "");
}

/// <summary>A non-core API group and its versions, the preferred one first.</summary>
internal sealed record ServedGroup(string Name, IReadOnlyList<string> Versions);
