using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Authentication;

/// <summary>authentication.k8s.io/v1: TokenReview and SelfSubjectReview, create-only and never stored (the API's authentication layer
/// answers it; this description gives it discovery and OpenAPI). TokenRequest is the serviceaccounts/token
/// subresource, described with ServiceAccounts.</summary>
internal static class AuthenticationResources
{
    public const string Group = "authentication.k8s.io";

    public static readonly ResourceDescription TokenReviews = new()
    {
        Group = Group, Version = "v1", Resource = "tokenreviews", Kind = "TokenReview",
        Namespaced = false, ObjectType = typeof(V1TokenReview), Verbs = ["create"],
        Strategy = new ModelStrategy<V1TokenReview>(),
        ProtobufMessage = "k8s.io.api.authentication.v1.TokenReview",
    };

    /// <summary>The body of serviceaccounts/token: read like a resource's (JSON, YAML or protobuf — kubectl sends
    /// protobuf), never served as a resource of its own.</summary>
    public static readonly ResourceDescription TokenRequestBodies = new()
    {
        Group = Group, Version = "v1", Resource = "serviceaccounts/token", Kind = "TokenRequest",
        Namespaced = true, ObjectType = typeof(Authenticationv1TokenRequest), Verbs = ["create"],
        Strategy = new ModelStrategy<Authenticationv1TokenRequest>(),
        ProtobufMessage = "k8s.io.api.authentication.v1.TokenRequest",
    };

    /// <summary>SelfSubjectReview (<c>kubectl auth whoami</c>): the caller's own user, create-only and never stored.</summary>
    public static readonly ResourceDescription SelfSubjectReviews = new()
    {
        Group = Group, Version = "v1", Resource = "selfsubjectreviews", Kind = "SelfSubjectReview",
        Namespaced = false, ObjectType = typeof(V1SelfSubjectReview), Verbs = ["create"],
        Strategy = new ModelStrategy<V1SelfSubjectReview>(),
        ProtobufMessage = "k8s.io.api.authentication.v1.SelfSubjectReview",
    };

    public static IReadOnlyList<ResourceDescription> All => [SelfSubjectReviews, TokenReviews];
}
