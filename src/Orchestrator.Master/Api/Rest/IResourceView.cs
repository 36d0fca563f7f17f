using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// A read-only resource computed from stored objects rather than stored itself, served because kubectl reads
/// it (EndpointSlices for <c>describe service</c>, node Leases for <c>describe node</c>).
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
