using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Authentication;

namespace Orchestrator.Master.Api.Authentication;

/// <summary>
/// authentication.k8s.io/v1 TokenReview, answered (never stored) as kube-apiserver's registry does: the token of the
/// spec goes through the API's token authenticators for the spec's audiences (the API's when none); the status says
/// whether it is authenticated, as whom, for which audiences, or the error. Only create is served.
/// </summary>
internal sealed class TokenReviews(RequestBodies bodies, IEnumerable<ITokenAuthenticator> authenticators, AdminToken admin) : IResourceView
{
    public bool AnswersProtobuf => true;

    public ResourceDescription Resource => AuthenticationResources.TokenReviews;

    public async Task HandleAsync(HttpContext context, RequestInfo info)
    {
        if (context.Request.Method != "POST" || info.Name is not null) throw ApiException.MethodNotAllowed(context.Request.Method);
        if (info.Namespace is not null) throw ApiException.UnknownPath();
        var review = (V1TokenReview)await bodies.ReadObjectAsync(context, Resource);
        var spec = review.Spec ?? new V1TokenReviewSpec();
        if (string.IsNullOrEmpty(spec.Token)) throw ApiException.BadRequest("token is required for TokenReview in authentication");
        review.Status = await ReviewAsync(spec, context.RequestAborted);
        await ProtobufAnswers.WriteAnswerAsync(context, 201, ObjectJson.ToJson(review, Resource.GroupVersion, Resource.Kind), Resource);
    }

    private async Task<V1TokenReviewStatus> ReviewAsync(V1TokenReviewSpec spec, CancellationToken cancellationToken)
    {
        var audiences = spec.Audiences is { Count: > 0 } ? spec.Audiences.ToList() : null;
        if (admin.Matches(spec.Token) && audiences is null) return Authenticated(UserInfo.Admin, null);
        foreach (var authenticator in authenticators)
        {
            var result = await authenticator.AuthenticateAsync(spec.Token, audiences, cancellationToken);
            if (result.User is { } user) return Authenticated(user, result.Audiences);
            if (result.Error is { } error) return new V1TokenReviewStatus { Authenticated = false, Error = $"[invalid bearer token, {error}]" };
        }
        return new V1TokenReviewStatus { Authenticated = false, Error = "[invalid bearer token, token lookup failed]" };
    }

    private static V1TokenReviewStatus Authenticated(UserInfo user, IReadOnlyList<string>? audiences) => new()
    {
        Authenticated = true,
        Audiences = audiences?.ToList(),
        User = UserInfoOf(user),
    };

    public static V1UserInfo UserInfoOf(UserInfo user) => new()
    {
        Username = user.Name, Uid = user.Uid.Length > 0 ? user.Uid : null, Groups = user.Groups.ToList(),
        Extra = user.Extra.Count > 0 ? user.Extra.ToDictionary(kv => kv.Key, kv => (IList<string>)kv.Value.ToList()) : null,
    };
}
