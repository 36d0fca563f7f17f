using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Security;

namespace Orchestrator.Master.Api.Authentication;

/// <summary>The authentication layer's services: the ServiceAccount token authenticators (bound and legacy), TokenRequest, TokenReview and
/// the issuer's discovery documents. The <see cref="Identity.ServiceAccountTokens"/> issuer is the host's (the node
/// gateway issues pods' tokens with it too).</summary>
internal static class AuthenticationServices
{
    public static IServiceCollection AddKubernetesAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<ITokenAuthenticator, ServiceAccountAuthenticator>();
        services.AddSingleton<ITokenAuthenticator, LegacyServiceAccountAuthenticator>();
        services.AddSingleton<ISubresourceHandler, ServiceAccountTokenRequest>();
        services.AddSingleton<IResourceView, TokenReviews>();
        services.AddSingleton<IResourceView, SelfSubjectReviews>();
        services.AddSingleton<OidcDiscovery>();
        return services;
    }
}
