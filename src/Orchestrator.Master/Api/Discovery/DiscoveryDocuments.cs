using k8s.Models;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Discovery;

/// <summary>
/// The discovery documents, all generated from <see cref="ApiResources.All"/>: the legacy forms
/// (APIVersions, APIGroupList, APIResourceList) and the aggregated form (apidiscovery.k8s.io/v2
/// APIGroupDiscoveryList) that kubectl 1.32 asks for first.
/// </summary>
internal static class DiscoveryDocuments
{
    public const string KubernetesVersion = "v1.32.0";

    private static readonly IReadOnlyList<string> SubresourceVerbs = ["get", "patch", "update"];

    /// <summary>Everything discovery lists: the stored resources and the read-only views.</summary>
    public static IReadOnlyList<ApiResource> Served { get; } = [.. ApiResources.All, .. ResourceViews.Resources];

    public static IReadOnlyList<string> VerbsOf(ApiResource resource) =>
        ResourceViews.Resources.Contains(resource) ? ResourceViews.Verbs : ApiResource.AllVerbs;

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

    /// <summary>The non-core groups with their versions, in registry order.</summary>
    public static IReadOnlyList<(string Group, IReadOnlyList<string> Versions)> Groups() =>
        Served.Where(r => r.Group.Length > 0)
            .GroupBy(r => r.Group)
            .Select(g => (g.Key, (IReadOnlyList<string>)g.Select(r => r.Version).Distinct().ToList()))
            .ToList();

    public static V1APIGroup Group(string group, IReadOnlyList<string> versions)
    {
        var list = versions.Select(v => new V1GroupVersionForDiscovery { GroupVersion = $"{group}/{v}", Version = v }).ToList();
        return new V1APIGroup { ApiVersion = "v1", Kind = "APIGroup", Name = group, Versions = list, PreferredVersion = list[0] };
    }

    public static V1APIGroupList GroupList() => new()
    {
        ApiVersion = "v1",
        Kind = "APIGroupList",
        Groups = Groups().Select(g => Group(g.Group, g.Versions)).ToList(),
    };

    public static bool HasGroupVersion(string group, string version) =>
        Served.Any(r => r.Group == group && r.Version == version);

    public static V1APIResourceList ResourceList(string group, string version)
    {
        var resources = new List<V1APIResource>();
        foreach (var r in Served.Where(r => r.Group == group && r.Version == version))
        {
            resources.Add(new V1APIResource
            {
                Name = r.Resource,
                SingularName = r.Singular,
                Namespaced = r.Namespaced,
                Kind = r.Kind,
                Verbs = VerbsOf(r).ToList(),
                ShortNames = r.ShortNames.Count > 0 ? r.ShortNames.ToList() : null,
                Categories = r.Categories.Count > 0 ? r.Categories.ToList() : null,
            });
            foreach (var sub in r.Subresources)
            {
                var (subGroup, subVersion, kind, verbs) = Subresource(r, sub);
                resources.Add(new V1APIResource
                {
                    Name = $"{r.Resource}/{sub}",
                    SingularName = "",
                    Namespaced = r.Namespaced,
                    Group = subGroup,
                    Version = subVersion,
                    Kind = kind,
                    Verbs = verbs.ToList(),
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

    /// <summary>What a subresource answers with: scale is autoscaling/v1 Scale, binding is a core Binding that is
    /// only created, log is read only, portforward takes PodPortForwardOptions, status is the parent kind.</summary>
    public static (string? Group, string? Version, string Kind, IReadOnlyList<string> Verbs) Subresource(ApiResource parent, string sub) =>
        sub switch
        {
            "scale" => ("autoscaling", "v1", "Scale", SubresourceVerbs),
            "binding" => ("", "v1", "Binding", ["create"]),
            "eviction" => ("policy", "v1", "Eviction", ["create"]),
            "log" => (null, null, parent.Kind, ["get"]),
            "portforward" => ("", "v1", "PodPortForwardOptions", ["create", "get"]),
            _ => (null, null, parent.Kind, SubresourceVerbs),
        };

    /// <summary>The aggregated discovery of the core group (/api) or of all other groups (/apis).</summary>
    public static V2APIGroupDiscoveryList Aggregated(bool core)
    {
        var groups = core
            ? [("", (IReadOnlyList<string>)["v1"])]
            : Groups();
        return new V2APIGroupDiscoveryList
        {
            ApiVersion = "apidiscovery.k8s.io/v2",
            Kind = "APIGroupDiscoveryList",
            Metadata = new V1ListMeta(),
            Items = groups.Select(g => new V2APIGroupDiscovery
            {
                Metadata = new V1ObjectMeta { Name = g.Item1.Length == 0 ? null : g.Item1 },
                Versions = g.Item2.Select(v => new V2APIVersionDiscovery
                {
                    Version = v,
                    Freshness = "Current",
                    Resources = Served.Where(r => r.Group == g.Item1 && r.Version == v).Select(ResourceDiscovery).ToList(),
                }).ToList(),
            }).ToList(),
        };
    }

    private static V2APIResourceDiscovery ResourceDiscovery(ApiResource r) => new()
    {
        Resource = r.Resource,
        SingularResource = r.Singular,
        ResponseKind = new V1GroupVersionKind { Group = r.Group, Version = r.Version, Kind = r.Kind },
        Scope = r.Namespaced ? "Namespaced" : "Cluster",
        Verbs = VerbsOf(r).ToList(),
        ShortNames = r.ShortNames.Count > 0 ? r.ShortNames.ToList() : null,
        Categories = r.Categories.Count > 0 ? r.Categories.ToList() : null,
        Subresources = r.Subresources.Select(sub =>
        {
            var (group, version, kind, verbs) = Subresource(r, sub);
            return new V2APISubresourceDiscovery
            {
                Subresource = sub,
                ResponseKind = new V1GroupVersionKind { Group = group ?? r.Group, Version = version ?? r.Version, Kind = kind },
                Verbs = verbs.ToList(),
            };
        }).ToList(),
    };
}
