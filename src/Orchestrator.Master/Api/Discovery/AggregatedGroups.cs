using k8s.Models;

namespace Orchestrator.Master.Api.Discovery;

/// <summary>The seam to the aggregator (Api/Aggregation): the group versions extension API servers serve, which
/// /apis and the aggregated discovery document list beside the catalog's.</summary>
internal interface IAggregatedGroups
{
    AggregatedGroupSet Current { get; }
}

/// <summary>One available service-backed APIService and its discovery as the extension server answered it.</summary>
internal sealed record AggregatedGroupVersion(string Group, string Version, int GroupPriority, int VersionPriority,
    V2APIVersionDiscovery Discovery);

/// <summary>An immutable snapshot, swapped whole; <see cref="Hash"/> changes with any of it (part of discovery's ETag).</summary>
internal sealed record AggregatedGroupSet(IReadOnlyList<AggregatedGroupVersion> Versions, string Hash)
{
    public static readonly AggregatedGroupSet Empty = new([], "");

    /// <summary>The aggregated groups, each with its versions by versionPriority (highest first), groups by their
    /// highest groupPriorityMinimum (highest first), then name, as kube-aggregator orders them.</summary>
    public IEnumerable<(string Group, IReadOnlyList<AggregatedGroupVersion> Versions)> Groups() =>
        Versions.GroupBy(v => v.Group, StringComparer.Ordinal)
            .Select(g => (g.Key, (IReadOnlyList<AggregatedGroupVersion>)g.OrderByDescending(v => v.VersionPriority).ThenBy(v => v.Version, StringComparer.Ordinal).ToList()))
            .OrderByDescending(g => g.Item2.Max(v => v.GroupPriority)).ThenBy(g => g.Key, StringComparer.Ordinal);

    public AggregatedGroupVersion? Find(string group, string version) =>
        Versions.FirstOrDefault(v => v.Group == group && v.Version == version);
}
