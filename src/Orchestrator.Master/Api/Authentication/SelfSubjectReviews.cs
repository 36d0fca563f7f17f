using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Authentication;

namespace Orchestrator.Master.Api.Authentication;

/// <summary>authentication.k8s.io/v1 SelfSubjectReview (<c>kubectl auth whoami</c>): the caller's user as the API
/// authenticated it — name, uid, groups and extra. Only create is served.</summary>
internal sealed class SelfSubjectReviews(RequestBodies bodies) : IResourceView
{
    public bool AnswersProtobuf => true;

    public ResourceDescription Resource => AuthenticationResources.SelfSubjectReviews;

    public async Task HandleAsync(HttpContext context, RequestInfo info)
    {
        if (context.Request.Method != "POST" || info.Name is not null) throw ApiException.MethodNotAllowed(context.Request.Method);
        if (info.Namespace is not null) throw ApiException.UnknownPath();
        var user = RequestUser.Get(context) ?? throw ApiException.Unauthorized();
        var review = (V1SelfSubjectReview)await bodies.ReadObjectAsync(context, Resource);
        review.Metadata ??= new V1ObjectMeta();
        review.Metadata.CreationTimestamp = DateTime.UtcNow;
        review.Status = new V1SelfSubjectReviewStatus { UserInfo = TokenReviews.UserInfoOf(user) };
        await ProtobufAnswers.WriteAnswerAsync(context, 201, ObjectJson.ToJson(review, Resource.GroupVersion, Resource.Kind), Resource);
    }
}
