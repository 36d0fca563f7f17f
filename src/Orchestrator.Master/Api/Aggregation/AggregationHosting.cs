namespace Orchestrator.Master.Api.Aggregation;

/// <summary>The aggregator's services; the host registers the <see cref="Security.FrontProxyIdentity"/> (it knows the
/// data directory).</summary>
internal static class AggregationHosting
{
    public static IServiceCollection AddAggregation(this IServiceCollection services)
    {
        services.AddSingleton<AggregationState>();
        services.AddSingleton<Discovery.IAggregatedGroups>(sp => sp.GetRequiredService<AggregationState>());
        services.AddSingleton<ExtensionServers>();
        services.AddSingleton<AggregationProxy>();
        services.AddHostedService<ApiServiceAvailability>();
        services.AddHostedService<ExtensionApiserverAuthentication>();
        return services;
    }
}
