using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Authorization;

/// <summary>authorization.k8s.io/v1: the access reviews, create-only and never stored (the API's authorization layer
/// answers them from the RBAC policy; these descriptions give them discovery, OpenAPI and protobuf bodies).</summary>
internal static class AuthorizationResources
{
    public const string Group = "authorization.k8s.io";

    private static readonly IReadOnlyList<string> CreateOnly = ["create"];

    public static readonly ResourceDescription SelfSubjectAccessReviews = new()
    {
        Group = Group, Version = "v1", Resource = "selfsubjectaccessreviews", Kind = "SelfSubjectAccessReview",
        Namespaced = false, ObjectType = typeof(V1SelfSubjectAccessReview), Verbs = CreateOnly,
        Strategy = new ModelStrategy<V1SelfSubjectAccessReview>(),
        ProtobufMessage = "k8s.io.api.authorization.v1.SelfSubjectAccessReview",
    };

    public static readonly ResourceDescription SelfSubjectRulesReviews = new()
    {
        Group = Group, Version = "v1", Resource = "selfsubjectrulesreviews", Kind = "SelfSubjectRulesReview",
        Namespaced = false, ObjectType = typeof(V1SelfSubjectRulesReview), Verbs = CreateOnly,
        Strategy = new ModelStrategy<V1SelfSubjectRulesReview>(),
        ProtobufMessage = "k8s.io.api.authorization.v1.SelfSubjectRulesReview",
    };

    public static readonly ResourceDescription SubjectAccessReviews = new()
    {
        Group = Group, Version = "v1", Resource = "subjectaccessreviews", Kind = "SubjectAccessReview",
        Namespaced = false, ObjectType = typeof(V1SubjectAccessReview), Verbs = CreateOnly,
        Strategy = new ModelStrategy<V1SubjectAccessReview>(),
        ProtobufMessage = "k8s.io.api.authorization.v1.SubjectAccessReview",
    };

    public static readonly ResourceDescription LocalSubjectAccessReviews = new()
    {
        Group = Group, Version = "v1", Resource = "localsubjectaccessreviews", Kind = "LocalSubjectAccessReview",
        Namespaced = true, ObjectType = typeof(V1LocalSubjectAccessReview), Verbs = CreateOnly,
        Strategy = new ModelStrategy<V1LocalSubjectAccessReview>(),
        ProtobufMessage = "k8s.io.api.authorization.v1.LocalSubjectAccessReview",
    };

    public static IReadOnlyList<ResourceDescription> All =>
        [LocalSubjectAccessReviews, SelfSubjectAccessReviews, SelfSubjectRulesReviews, SubjectAccessReviews];
}
