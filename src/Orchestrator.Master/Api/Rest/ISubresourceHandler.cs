using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// A subresource whose behaviour is more than reading and writing the object (pods' log, exec and portforward relays,
/// binding, eviction), as kube-apiserver's per-kind REST storage for them. The router finds it by group, resource
/// and subresource; <c>status</c> and <c>scale</c> are generic (<see cref="SubresourceHandlers"/>).
/// </summary>
internal interface ISubresourceHandler
{
    string Group { get; }
    string Resource { get; }
    string Subresource { get; }

    Task HandleAsync(HttpContext context, ResourceDescription resource, string? ns, string name);
}

internal static class SubresourceHandlerExtensions
{
    public static bool Serves(this ISubresourceHandler handler, ResourceDescription resource, string subresource) =>
        handler.Group == resource.Group && handler.Resource == resource.Resource && handler.Subresource == subresource;
}
