using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// A read-only resource computed rather than stored: componentstatuses (probes of the control plane) and the
/// metrics.k8s.io node and pod metrics (from the nodes' reports).
/// </summary>
internal interface IResourceView
{
    ResourceDescription Resource { get; }

    Task HandleAsync(HttpContext context, RequestInfo info);

    /// <summary>Whether the view answers in its kind's protobuf message to a client that takes only protobuf
    /// (<see cref="Responses.ProtobufAnswers.WriteAnswerAsync"/>); a view that answers JSON only is refused with 406 first.</summary>
    bool AnswersProtobuf => false;
}

internal static class ResourceViews
{
    public static bool Serves(this IResourceView view, RequestInfo info) =>
        view.Resource.Group == info.Group && view.Resource.Version == info.Version && view.Resource.Resource == info.ResourceName;

    /// <summary>Refuses what a view with only get and list does not serve, as kube-apiserver does for such a resource:
    /// another method (405), a subresource or — where the view is not namespaced — a namespace in the path (404), a
    /// watch (405).</summary>
    public static void RequireRead(this IResourceView view, HttpContext context, RequestInfo info)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            throw ApiException.MethodNotAllowed(context.Request.Method);
        if (info.Subresource is not null || (!view.Resource.Namespaced && info.Namespace is not null)) throw ApiException.UnknownPath();
        if (QueryParameters.Bool(context.Request.Query, "watch")) throw ApiException.MethodNotAllowed("watch");
    }
}
