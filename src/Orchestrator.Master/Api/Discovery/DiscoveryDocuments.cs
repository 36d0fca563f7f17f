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

    public static VersionInfo Version() => new()
    {
        Major = "1",
        Minor = "32",
        GitVersion = KubernetesVersion + "-orchestrator",
        GitCommit = "0000000000000000000000000000000000000000",
        GitTreeState = "clean",
        BuildDate = "2025-01-01T00:00:00Z",
        GoVersion = "go1.23.0",
        Compiler = "gc",
        Platform = "linux/amd64",
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

    public static V1APIGroupList GroupList(CatalogSnapshot catalog) => new()
    {
        ApiVersion = "v1",
        Kind = "APIGroupList",
        Groups = catalog.Groups.Select(Group).ToList(),
    };

    public static V1APIResourceList ResourceList(CatalogSnapshot catalog, string group, string version)
    {
        var resources = new List<V1APIResource>();
        foreach (var r in catalog.InGroupVersion(group, version))
        {
            resources.Add(new V1APIResource
            {
                Name = r.Resource,
                SingularName = r.Singular,
                Namespaced = r.Namespaced,
                Kind = r.Kind,
                Verbs = r.Verbs.ToList(),
                ShortNames = r.ShortNames.Count > 0 ? r.ShortNames.ToList() : null,
                Categories = r.Categories.Count > 0 ? r.Categories.ToList() : null,
            });
            foreach (var sub in r.Subresources)
            {
                resources.Add(new V1APIResource
                {
                    Name = $"{r.Resource}/{sub.Name}",
                    SingularName = "",
                    Namespaced = r.Namespaced,
                    Group = sub.Group,
                    Version = sub.Version,
                    Kind = sub.Kind,
                    Verbs = sub.Verbs.ToList(),
                });
            }
        }
        return new V1APIResourceList
        {
            ApiVersion = "v1",
            Kind = "APIResourceList",
            GroupVersion = group.Length == 0 ? version : $"{group}/{version}",
            Resources = resources,
        };
    }

    /// <summary>The aggregated discovery of the core group (/api) or of all other groups (/apis).</summary>
    public static V2APIGroupDiscoveryList Aggregated(CatalogSnapshot catalog, bool core)
    {
        var groups = core ? [new ServedGroup("", ["v1"])] : catalog.Groups;
        return new V2APIGroupDiscoveryList
        {
            ApiVersion = "apidiscovery.k8s.io/v2",
            Kind = "APIGroupDiscoveryList",
            Metadata = new V1ListMeta(),
            Items = groups.Select(g => new V2APIGroupDiscovery
            {
                Metadata = new V1ObjectMeta { Name = g.Name.Length == 0 ? null : g.Name },
                Versions = g.Versions.Select(v => new V2APIVersionDiscovery
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
