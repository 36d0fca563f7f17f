using System.Net;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Services;

namespace Orchestrator.Node.Proxy;

/// <summary>Runs an <see cref="ApiServerLoadBalancer"/> with the host (--api-server-proxy): on a node it also learns
/// the masters from the default/kubernetes EndpointSlices the node receives, as k3s agents update their balancer from
/// the kubernetes Endpoints.</summary>
internal static class ApiServerLoadBalancerHosting
{
    public static IServiceCollection AddApiServerLoadBalancer(this IServiceCollection services, IPEndPoint listen, IReadOnlyList<DnsEndPoint> servers,
        bool learnFromServices)
    {
        services.AddSingleton(sp => new ApiServerLoadBalancer(listen, servers, sp.GetRequiredService<ILogger<ApiServerLoadBalancer>>()));
        services.AddHostedService(sp => new Runner(sp.GetRequiredService<ApiServerLoadBalancer>(),
            learnFromServices ? sp.GetRequiredService<ServiceDirectory>() : null));
        return services;
    }

    /// <summary>The masters' API addresses in the kubernetes Service's slices: every ready endpoint's address at the
    /// slice's https port.</summary>
    internal static IReadOnlyList<DnsEndPoint> ApiServersIn(IEnumerable<V1EndpointSlice> slices) =>
        slices.Where(s => s.Metadata is { NamespaceProperty: "default" } meta && meta.Labels is { } labels
                          && labels.TryGetValue("kubernetes.io/service-name", out var service) && service == "kubernetes")
            .OrderBy(s => s.Metadata.Name, StringComparer.Ordinal)
            .SelectMany(s => (s.Ports ?? []).Where(p => p.Port is > 0 and <= 65535 && (p.Name is null or "" or "https"))
                .SelectMany(p => (s.Endpoints ?? []).Where(e => e.Conditions?.Ready != false)
                    .SelectMany(e => e.Addresses ?? [])
                    .Where(a => IPAddress.TryParse(a, out _))
                    .Select(a => new DnsEndPoint(a, p.Port!.Value))))
            .Distinct()
            .ToList();

    private sealed class Runner(ApiServerLoadBalancer balancer, ServiceDirectory? directory) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            balancer.Start();
            // an empty list (the node not yet told, or the Service's slices gone) keeps what was learned before
            directory?.Subscribe(changed =>
            {
                if (ApiServersIn(changed.EndpointSlices) is { Count: > 0 } learned) balancer.SetLearned(learned);
            });
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken) => await balancer.DisposeAsync();
    }
}
