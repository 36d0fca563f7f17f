using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Authentication;

/// <summary>authentication.k8s.io/v1: TokenReview, create-only and never stored (the API's authentication layer
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
    };

    public static IReadOnlyList<ResourceDescription> All => [TokenReviews];
}
