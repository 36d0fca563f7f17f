using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Authorization;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>
/// authorization.k8s.io/v1's reviews, answered (never stored) as kube-apiserver's registry does: the
/// SelfSubjectAccessReview and SubjectAccessReview ask the authorizer about one request of the caller or of the user
/// in the spec; the LocalSubjectAccessReview does so in the namespace of its path; the SelfSubjectRulesReview lists
/// the caller's rules in a namespace. Only create is served (others are 405).
/// </summary>
internal sealed class AccessReview(ResourceDescription resource, RbacAuthorizer authorizer, RequestBodies bodies) : IResourceView
{
    public ResourceDescription Resource => resource;

    // (not yet the SelfSubjectRulesReview: its protobuf answer came without the status' rules in the API test, although
    // the encoder keeps them when given the same JSON alone — not yet understood, so it stays an honest 406)
    public bool AnswersProtobuf => resource.Kind != "SelfSubjectRulesReview";

    public async Task HandleAsync(HttpContext context, RequestInfo info)
    {
        if (context.Request.Method != "POST" || info.Name is not null) throw ApiException.MethodNotAllowed(context.Request.Method);
        if (resource.Namespaced != (info.Namespace is not null)) throw ApiException.UnknownPath();
        var user = RequestUser.Get(context) ?? throw ApiException.Unauthorized();
        var obj = await bodies.ReadObjectAsync(context, resource);
        object answer = obj switch
        {
            V1SelfSubjectAccessReview self => Review(self, user),
            V1SubjectAccessReview review => Review(review),
            V1LocalSubjectAccessReview local => Review(local, info.Namespace!),
            V1SelfSubjectRulesReview rules => Review(rules, user),
            _ => throw ApiException.BadRequest("unexpected review"),
        };
        await ProtobufAnswers.WriteAnswerAsync(context, 201, ObjectJson.ToJson(answer, resource.GroupVersion, resource.Kind), resource);
    }

    private V1SelfSubjectAccessReview Review(V1SelfSubjectAccessReview review, UserInfo user)
    {
        var spec = review.Spec ?? new V1SelfSubjectAccessReviewSpec();
        CheckAttributes(spec.ResourceAttributes, spec.NonResourceAttributes, review.Metadata?.Name);
        review.Status = Decide(user, spec.ResourceAttributes, spec.NonResourceAttributes);
        return review;
    }

    private V1SubjectAccessReview Review(V1SubjectAccessReview review)
    {
        var spec = review.Spec ?? new V1SubjectAccessReviewSpec();
        CheckAttributes(spec.ResourceAttributes, spec.NonResourceAttributes, review.Metadata?.Name);
        CheckSubject(spec, review.Metadata?.Name);
        review.Status = Decide(UserOf(spec), spec.ResourceAttributes, spec.NonResourceAttributes);
        return review;
    }

    private V1LocalSubjectAccessReview Review(V1LocalSubjectAccessReview review, string @namespace)
    {
        var spec = review.Spec ?? new V1SubjectAccessReviewSpec();
        CheckAttributes(spec.ResourceAttributes, spec.NonResourceAttributes, review.Metadata?.Name);
        if (spec.NonResourceAttributes is not null)
            throw Invalid(review.Metadata?.Name, "spec.nonResourceAttributes", "null",
                "disallowed on this kind of request");
        CheckSubject(spec, review.Metadata?.Name);
        if ((spec.ResourceAttributes!.NamespaceProperty ?? "") != @namespace)
            throw Invalid(review.Metadata?.Name, "spec.resourceAttributes.namespace",
                $"\"{spec.ResourceAttributes.NamespaceProperty}\"", "must match metadata.namespace");
        review.Status = Decide(UserOf(spec), spec.ResourceAttributes, null);
        return review;
    }

    private V1SelfSubjectRulesReview Review(V1SelfSubjectRulesReview review, UserInfo user)
    {
        var (rules, errors, incomplete) = authorizer.RulesFor(user, review.Spec?.NamespaceProperty ?? "");
        review.Status = new V1SubjectRulesReviewStatus
        {
            ResourceRules = rules.Where(r => r.Resources is { Count: > 0 }).Select(r => new V1ResourceRule
            {
                Verbs = r.Verbs, ApiGroups = r.ApiGroups, Resources = r.Resources, ResourceNames = r.ResourceNames,
            }).ToList(),
            NonResourceRules = rules.Where(r => r.NonResourceURLs is { Count: > 0 }).Select(r => new V1NonResourceRule
            {
                Verbs = r.Verbs, NonResourceURLs = r.NonResourceURLs,
            }).ToList(),
            Incomplete = incomplete,
            EvaluationError = errors.Count == 0 ? null : string.Join(", ", errors),
        };
        return review;
    }

    private V1SubjectAccessReviewStatus Decide(UserInfo user, V1ResourceAttributes? resource, V1NonResourceAttributes? nonResource)
    {
        var request = resource is not null
            ? new AuthorizationAttributes(user, resource.Verb ?? "", true, "", resource.Group ?? "", resource.Version ?? "",
                resource.Resource ?? "", resource.Subresource ?? "", resource.NamespaceProperty ?? "", resource.Name ?? "")
            : new AuthorizationAttributes(user, nonResource!.Verb ?? "", false, nonResource.Path ?? "");
        var (allowed, reason) = authorizer.Authorize(request);
        return new V1SubjectAccessReviewStatus { Allowed = allowed, Reason = reason.Length > 0 ? reason : null };
    }

    private static UserInfo UserOf(V1SubjectAccessReviewSpec spec) => new(spec.User ?? "", spec.Uid ?? "",
        spec.Groups?.ToList() ?? [],
        spec.Extra?.ToDictionary(e => e.Key, e => (IReadOnlyList<string>)e.Value.ToList()) ?? UserInfo.NoExtra);

    private void CheckAttributes(V1ResourceAttributes? resourceAttributes, V1NonResourceAttributes? nonResource, string? name)
    {
        if (resourceAttributes is null && nonResource is null)
            throw Invalid(name, "spec.resourceAttributes", "null", "exactly one of nonResourceAttributes or resourceAttributes must be specified");
        if (resourceAttributes is not null && nonResource is not null)
            throw Invalid(name, "spec.nonResourceAttributes", "{}", "cannot be specified in combination with resourceAttributes");
    }

    private void CheckSubject(V1SubjectAccessReviewSpec spec, string? name)
    {
        if (string.IsNullOrEmpty(spec.User) && spec.Groups is not { Count: > 0 })
            throw Invalid(name, "spec.user", "\"\"", "at least one of user or group must be specified");
    }

    private ApiException Invalid(string? name, string field, string value, string message) =>
        ApiException.Invalid(resource, name ?? "", field, $"Invalid value: {value}: {message}");
}
