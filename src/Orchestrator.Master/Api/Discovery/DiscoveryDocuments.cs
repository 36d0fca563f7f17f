using System.Text.Json.Nodes;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Discovery;

/// <summary>
/// The discovery documents, all generated from the catalog's snapshot: the legacy forms (APIVersions, APIGroupList,
/// APIResourceList) and the aggregated form (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) that kubectl 1.32 asks for
/// first.
/// </summary>
internal static class DiscoveryDocuments
{
    public const string KubernetesVersion = "v1.32.0";

    /// <summary>/version's body in the field order of apimachinery's version.Info, which kube-apiserver marshals as it is
    /// declared (KubernetesClient's VersionInfo serializes its properties alphabetically).</summary>
    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = KubernetesVersion + "-orchestrator",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2025-01-01T00:00:00Z",
        ["goVersion"] = "go1.23.0",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static V1APIVersions CoreVersions(string serverAddress) => new()
    {
        ApiVersion = "v1",
        Kind = "APIVersions",
        Versions = ["v1"],
        ServerAddressByClientCIDRs = [new V1ServerAddressByClientCIDR { ClientCIDR = "0.0.0.0/0", ServerAddress = serverAddress }],
    };

    public static V1APIGroup Group(ServedGroup group)
    {
        var list = group.Versions.Select(v => new V1GroupVersionForDiscovery { GroupVersion = $"{group.Name}/{v}", Version = v }).ToList();
        return new V1APIGroup { ApiVersion = "v1", Kind = "APIGroup", Name = group.Name, Versions = list, PreferredVersion = list[0] };
    }

    public static V1APIGroupList GroupList(CatalogSnapshot catalog, AggregatedGroupSet? aggregated = null) => new()
    {
        ApiVersion = "v1",
        Kind = "APIGroupList",
        Groups = Groups(catalog, aggregated ?? AggregatedGroupSet.Empty).Select(Group).ToList(),
    };

    /// <summary>The catalog's groups, then the extension servers' groups; a version an extension server serves in a
    /// group served here too (metrics.k8s.io replaced by metrics-server) is listed once.</summary>
    public static IReadOnlyList<ServedGroup> Groups(CatalogSnapshot catalog, AggregatedGroupSet aggregated)
    {
        if (aggregated.Versions.Count == 0) return catalog.Groups;
        var groups = catalog.Groups.ToList();
        foreach (var (group, versions) in aggregated.Groups())
        {
            var index = groups.FindIndex(g => g.Name == group);
            if (index < 0) groups.Add(new ServedGroup(group, versions.Select(v => v.Version).ToList()));
            else groups[index] = groups[index] with { Versions = groups[index].Versions.Concat(versions.Select(v => v.Version)).Distinct().ToList() };
        }
        return groups;
    }

    /// <summary>
    /// /api/v1 or /apis/{group}/{version}. Written field by field in the order of Go's APIResourceList and APIResource
    /// (kind, apiVersion, groupVersion, resources; name, singularName, namespaced, group, version, kind, verbs,
    /// shortNames, categories, storageVersionHash) because clients match the raw document (kubectl's test-cmd greps
    /// /api/v1 for the configmaps entry up to its storageVersionHash).
    /// </summary>
    public static JsonObject ResourceList(CatalogSnapshot catalog, string group, string version)
    {
        var resources = new JsonArray();
        foreach (var r in catalog.InGroupVersion(group, version))
        {
            resources.Add(Resource(r.Resource, r.Singular, r.Namespaced, null, null, r.Kind, r.Verbs, r.ShortNames,
                r.Categories, StorageVersionHash(catalog, r)));
            foreach (var sub in r.Subresources)
                resources.Add(Resource($"{r.Resource}/{sub.Name}", "", r.Namespaced, sub.Group, sub.Version, sub.Kind,
                    sub.Verbs, [], [], null));
        }
        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }

    private static JsonObject Resource(string name, string singular, bool namespaced, string? group, string? version,
        string kind, IEnumerable<string> verbs, IReadOnlyList<string> shortNames, IReadOnlyList<string> categories,
        string? storageVersionHash)
    {
        var o = new JsonObject { ["name"] = name, ["singularName"] = singular, ["namespaced"] = namespaced };
        if (!string.IsNullOrEmpty(group)) o["group"] = group;
        if (!string.IsNullOrEmpty(version)) o["version"] = version;
        o["kind"] = kind;
        o["verbs"] = new JsonArray(verbs.Select(v => (JsonNode)v).ToArray());
        if (shortNames.Count > 0) o["shortNames"] = new JsonArray(shortNames.Select(v => (JsonNode)v).ToArray());
        if (categories.Count > 0) o["categories"] = new JsonArray(categories.Select(v => (JsonNode)v).ToArray());
        if (storageVersionHash is not null) o["storageVersionHash"] = storageVersionHash;
        return o;
    }

    /// <summary>
    /// kube-apiserver's hash of the version a resource is stored in: base64 of the first 8 bytes of
    /// sha256("group/version/kind") of the storage version. Only stored resources carry one; the create-only reviews
    /// and the read-only metrics and component statuses (no object storage behind them) carry none, as there.
    /// </summary>
    internal static string? StorageVersionHash(CatalogSnapshot catalog, ResourceDescription r)
    {
        if (!r.Verbs.Contains("create") || !r.Verbs.Contains("get")) return null;
        var stored = r.Storage ? r : catalog.FindStored(r.StoreName) ?? r;
        var digest = System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{stored.Group}/{stored.Version}/{stored.Kind}"));
        return Convert.ToBase64String(digest, 0, 8);
    }

    /// <summary>The aggregated discovery of the core group (/api) or of all other groups (/apis).</summary>
    public static V2APIGroupDiscoveryList Aggregated(CatalogSnapshot catalog, bool core, AggregatedGroupSet? aggregated = null)
    {
        aggregated ??= AggregatedGroupSet.Empty;
        var groups = core ? [new ServedGroup("", ["v1"])] : Groups(catalog, aggregated);
        return new V2APIGroupDiscoveryList
        {
            ApiVersion = "apidiscovery.k8s.io/v2",
            Kind = "APIGroupDiscoveryList",
            Metadata = new V1ListMeta(),
            Items = groups.Select(g => new V2APIGroupDiscovery
            {
                Metadata = new V1ObjectMeta { Name = g.Name.Length == 0 ? null : g.Name },
                Versions = g.Versions.Select(v => aggregated.Find(g.Name, v)?.Discovery ?? new V2APIVersionDiscovery
                {
                    Version = v,
                    Freshness = "Current",
                    Resources = catalog.InGroupVersion(g.Name, v).Select(ResourceDiscovery).ToList(),
                }).ToList(),
            }).ToList(),
        };
    }

    private static V2APIResourceDiscovery ResourceDiscovery(ResourceDescription r) => new()
    {
        Resource = r.Resource,
        SingularResource = r.Singular,
        ResponseKind = new V1GroupVersionKind { Group = r.Group, Version = r.Version, Kind = r.Kind },
        Scope = r.Namespaced ? "Namespaced" : "Cluster",
        Verbs = r.Verbs.ToList(),
        ShortNames = r.ShortNames.Count > 0 ? r.ShortNames.ToList() : null,
        Categories = r.Categories.Count > 0 ? r.Categories.ToList() : null,
        Subresources = r.Subresources.Select(sub => new V2APISubresourceDiscovery
        {
            Subresource = sub.Name,
            ResponseKind = new V1GroupVersionKind { Group = sub.Group ?? r.Group, Version = sub.Version ?? r.Version, Kind = sub.Kind },
            Verbs = sub.Verbs.ToList(),
        }).ToList(),
    };
}
