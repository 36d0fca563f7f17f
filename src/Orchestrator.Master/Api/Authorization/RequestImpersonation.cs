using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Security;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>
/// After authentication: impersonation (Impersonate-User, -Group, -Uid, -Extra-*; each allowed only when the caller
/// may "impersonate" that user, group, uid or extra, as k8s.io/apiserver's impersonation filter checks; 403 when not),
/// then what the request asks, as the user it acts as (<see cref="AttributesOf"/>), for flow control and authorization
/// after it. Requests without a user (health and version, served to anyone) pass.
/// </summary>
internal sealed class RequestImpersonation(RequestDelegate next, RbacAuthorizer authorizer)
{
    public const string ImpersonateUser = "Impersonate-User";
    public const string ImpersonateGroup = "Impersonate-Group";
    public const string ImpersonateUid = "Impersonate-Uid";
    public const string ImpersonateExtraPrefix = "Impersonate-Extra-";

    private static readonly object AttributesKey = new();

    /// <summary>What the request asks, as the user it acts as (after impersonation), for the filters after this one;
    /// null for requests without a user.</summary>
    public static AuthorizationAttributes? AttributesOf(HttpContext context) =>
        context.Items.TryGetValue(AttributesKey, out var attributes) ? attributes as AuthorizationAttributes : null;

    public Task InvokeAsync(HttpContext context)
    {
        if (RequestUser.Get(context) is not { } user) return next(context);
        try
        {
            user = Impersonate(context, user);
        }
        catch (ApiException e)
        {
            return StatusResponses.WriteAsync(context, e);
        }
        RequestUser.Set(context, user);
        context.Items[AttributesKey] = AuthorizationAttributes.Of(user, context.Request.Method,
            context.Request.Path.Value ?? "", context.Request.Query);
        return next(context);
    }

    private UserInfo Impersonate(HttpContext context, UserInfo actor)
    {
        var headers = context.Request.Headers;
        if (!AnyImpersonationHeader(headers)) return actor; // the common case, without the allocations below
        var userName = headers[ImpersonateUser].ToString();
        var groups = headers[ImpersonateGroup].Where(g => g is not null).Select(g => g!).ToList();
        var uid = headers[ImpersonateUid].ToString();
        var extra = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var (name, values) in headers)
            if (name.StartsWith(ImpersonateExtraPrefix, StringComparison.OrdinalIgnoreCase))
                extra[Uri.UnescapeDataString(name[ImpersonateExtraPrefix.Length..]).ToLowerInvariant()] =
                    values.Where(v => v is not null).Select(v => v!).ToList();
        if (userName.Length == 0)
        {
            if (groups.Count == 0 && uid.Length == 0 && extra.Count == 0) return actor;
            throw ApiException.BadRequest("requested impersonation of groups, uid or extra without impersonating a user");
        }

        var serviceAccount = UserInfo.ServiceAccountOf(userName);
        Check(actor, serviceAccount is { } sa
            ? new AuthorizationAttributes(actor, "impersonate", true, Resource: "serviceaccounts", Namespace: sa.Namespace, Name: sa.Name)
            : new AuthorizationAttributes(actor, "impersonate", true, Resource: "users", Name: userName));
        foreach (var group in groups)
            Check(actor, new AuthorizationAttributes(actor, "impersonate", true, Resource: "groups", Name: group));
        if (uid.Length > 0)
            Check(actor, new AuthorizationAttributes(actor, "impersonate", true, ApiGroup: "authentication.k8s.io",
                Resource: "uids", Name: uid));
        foreach (var (key, values) in extra)
        foreach (var value in values)
            Check(actor, new AuthorizationAttributes(actor, "impersonate", true, ApiGroup: "authentication.k8s.io",
                Resource: "userextras", Subresource: key, Name: value));

        var all = new List<string>(groups);
        if (serviceAccount is { } account && groups.Count == 0)
            all.AddRange([UserInfo.ServiceAccountsGroup, UserInfo.ServiceAccountsGroup + ":" + account.Namespace]);
        if (userName != UserInfo.Anonymous && !all.Contains(UserInfo.AllAuthenticated) && !all.Contains(UserInfo.AllUnauthenticated))
            all.Add(UserInfo.AllAuthenticated);
        return new UserInfo(userName, uid, all, extra);
    }

    private static bool AnyImpersonationHeader(IHeaderDictionary headers)
    {
        foreach (var (name, _) in headers)
            if (name.StartsWith("Impersonate-", StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    private void Check(UserInfo actor, AuthorizationAttributes request)
    {
        var (allowed, reason) = authorizer.Authorize(request);
        if (!allowed) throw RbacAuthorizer.Forbidden(request, reason);
    }
}
