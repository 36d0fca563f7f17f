using k8s.Models;
using Orchestrator.Master.Api.Discovery;

namespace Orchestrator.Master.Api.Aggregation;

/// <summary>
/// What the aggregator routes and lists, swapped whole: the service-backed APIServices by group version (their stored
/// Available condition decides whether requests go through, as kube's proxy handler reads it from its informer), and
/// the discovery of the available ones (<see cref="IAggregatedGroups"/>).
/// </summary>
internal sealed class AggregationState : IAggregatedGroups
{
    private volatile IReadOnlyDictionary<(string Group, string Version), V1APIService> _routes =
        new Dictionary<(string, string), V1APIService>();
    private volatile AggregatedGroupSet _groups = AggregatedGroupSet.Empty;

    public AggregatedGroupSet Current => _groups;

    public V1APIService? Route(string group, string version) => _routes.GetValueOrDefault((group, version));

    public void SetRoutes(IEnumerable<V1APIService> apiServices) =>
        _routes = apiServices.Where(a => a.Spec?.Service is not null && a.Metadata.DeletionTimestamp is null)
            .ToDictionary(a => (a.Spec.Group ?? "", a.Spec.Version ?? ""));

    public void SetGroups(AggregatedGroupSet groups) => _groups = groups;

    public static bool IsAvailable(V1APIService api) =>
        api.Status?.Conditions?.Any(c => c.Type == "Available" && c.Status == "True") == true;
}
