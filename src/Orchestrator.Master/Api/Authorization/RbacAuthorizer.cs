using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Security;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>kube-apiserver's authorizer chain as configured here (--authorization-mode=Node,RBAC): system:masters is
/// allowed everything (the privileged group authorizer), then the <see cref="NodeAuthorizer"/> for node users, then
/// RBAC over the cached policy. No opinion is a denial, with every authorizer's reason joined by newlines as kube's
/// union authorizer joins them.</summary>
internal sealed class RbacAuthorizer(RbacCache cache, NodeAuthorizer? nodes = null)
{
    public RbacPolicy Policy => cache.Policy;

    public (bool Allowed, string Reason) Authorize(AuthorizationAttributes request)
    {
        if (request.User.IsMaster) return (true, "");
        var nodeReason = "";
        if (nodes is not null)
        {
            var (allowed, reason) = nodes.Authorize(request);
            if (allowed) return (true, reason);
            nodeReason = reason;
        }
        var rbac = cache.Policy.Authorize(request);
        if (rbac.Allowed || nodeReason.Length == 0) return rbac;
        return (false, rbac.Reason.Length == 0 ? nodeReason : nodeReason + "\n" + rbac.Reason);
    }

    public bool Allows(AuthorizationAttributes request) => Authorize(request).Allowed;

    /// <summary>k8s.io/apiserver's responsewriters.Forbidden: the request's resource (or path) in kube's words,
    /// as a 403 Status naming the resource's group, resource and name.</summary>
    public static ApiException Forbidden(AuthorizationAttributes a, string reason)
    {
        var message = ForbiddenMessage(a);
        if (reason.Length > 0) message += ": " + reason;
        return Forbidden(a.ApiGroup, a.IsResourceRequest ? a.Resource : "", a.Name, message);
    }

    /// <summary>apierrors.NewForbidden: "{resource}.{group} \"{name}\" is forbidden: {message}".</summary>
    public static ApiException Forbidden(string group, string resource, string name, string message)
    {
        var qualified = group.Length == 0 ? resource : resource + "." + group;
        var text = (qualified.Length, name.Length) switch
        {
            (0, _) => "forbidden: " + message,
            (_, 0) => $"{qualified} is forbidden: {message}",
            _ => $"{qualified} \"{name}\" is forbidden: {message}",
        };
        return new ApiException(403, "Forbidden", text,
            new k8s.Models.V1StatusDetails { Group = group, Kind = resource, Name = name });
    }

    public static string ForbiddenMessage(AuthorizationAttributes a)
    {
        var user = a.User.Name;
        if (!a.IsResourceRequest) return $"User \"{user}\" cannot {a.Verb} path \"{a.Path}\"";
        var resource = a.CombinedResource;
        return a.Namespace.Length > 0
            ? $"User \"{user}\" cannot {a.Verb} resource \"{resource}\" in API group \"{a.ApiGroup}\" in the namespace \"{a.Namespace}\""
            : $"User \"{user}\" cannot {a.Verb} resource \"{resource}\" in API group \"{a.ApiGroup}\" at the cluster scope";
    }
}
