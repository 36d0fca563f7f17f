using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Registry.Kinds.Authorization;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>The authorization layer's services: the RBAC cache (started with the host), the authorizer, the
/// escalation check on role and binding writes, the
/// requestor and signer checks of certificate signing requests, and the access reviews.</summary>
internal static class AuthorizationServices
{
    public static IServiceCollection AddKubernetesAuthorization(this IServiceCollection services)
    {
        services.AddSingleton<RbacCache>();
        services.AddHostedService(sp => sp.GetRequiredService<RbacCache>());
        services.AddSingleton<NodeGraphCache>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeGraphCache>());
        services.AddSingleton<NodeAuthorizer>();
        services.AddSingleton<RbacAuthorizer>(sp => new RbacAuthorizer(sp.GetRequiredService<RbacCache>(),
            sp.GetRequiredService<NodeAuthorizer>(), sp.GetService<AuthorizationSettings>()));
        services.AddSingleton<NodeRestriction>();
        services.AddSingleton<IWriteAdmission>(sp => sp.GetRequiredService<NodeRestriction>());
        services.AddSingleton<IWriteAdmission, EscalationCheck>();
        services.AddSingleton<IWriteAdmission, CertificateRequestAdmission>();
        foreach (var (subresource, verb) in new[] { ("approval", "approve"), ("status", "sign") })
            services.AddSingleton<ISubresourceHandler>(sp => new CertificateSignerAuthorization(subresource, verb,
                sp.GetRequiredService<RbacAuthorizer>(), sp.GetRequiredService<Storage.ObjectStoreClient>(),
                sp.GetRequiredService<ResourceHandlers>()));
        foreach (var resource in AuthorizationResources.All)
            services.AddSingleton<IResourceView>(sp => new AccessReview(resource,
                sp.GetRequiredService<RbacAuthorizer>(), sp.GetRequiredService<RequestBodies>()));
        return services;
    }
}
