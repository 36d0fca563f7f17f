using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Security;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>
/// The authorization of the request (as <see cref="RequestImpersonation"/> left it) by <see cref="RbacAuthorizer"/>,
/// answering 403 with kube's message when denied, and NodeRestriction's checks on the request of a node user
/// (<see cref="NodeRestriction.CheckRequestAsync"/>). After flow control, as kube's WithAuthorization runs inside
/// WithPriorityAndFairness: a request refused here has taken its seat. Requests without a user (health and version,
/// served to anyone) pass.
/// </summary>
internal sealed class RequestAuthorization(RequestDelegate next, RbacAuthorizer authorizer, NodeRestriction nodeRestriction)
{
    // Not an async method: when NodeRestriction's check is done at once (every request but a node's few writes that read
    // the store) the request goes on without a state machine of this layer.
    public Task InvokeAsync(HttpContext context)
    {
        if (RequestImpersonation.AttributesOf(context) is not { } request) return next(context);
        Task check;
        try
        {
            var (allowed, reason) = authorizer.Authorize(request);
            AuditAnnotations.Add(context, "authorization.k8s.io/decision", allowed ? "allow" : "forbid");
            AuditAnnotations.Add(context, "authorization.k8s.io/reason", reason);
            if (!allowed) throw RbacAuthorizer.Forbidden(request, reason);
            check = nodeRestriction.CheckRequestAsync(context, request);
        }
        catch (ApiException e)
        {
            return StatusResponses.WriteAsync(context, e);
        }
        return check.IsCompletedSuccessfully ? next(context) : AfterCheckAsync(context, check);
    }

    private async Task AfterCheckAsync(HttpContext context, Task check)
    {
        try
        {
            await check;
        }
        catch (ApiException e)
        {
            await StatusResponses.WriteAsync(context, e);
            return;
        }
        await next(context);
    }
}
