using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// A read-only resource computed from stored objects rather than stored itself. None is registered today: the
/// EndpointSlices and node Leases that used to be views are stored and kept by controllers.
/// </summary>
internal interface IResourceView
{
    ResourceDescription Resource { get; }

    Task HandleAsync(HttpContext context, RequestInfo info);
}

internal static class ResourceViews
{
    public static bool Serves(this IResourceView view, RequestInfo info) =>
        view.Resource.Group == info.Group && view.Resource.Version == info.Version && view.Resource.Resource == info.ResourceName;
}
