using Akka.Actor;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Api.Webhooks;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Controllers.Certificates;
using Orchestrator.Master.Controllers.LoadBalancers;
using Orchestrator.Master.Nodes;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master;

/// <summary>Timing of the control plane. Resync is how often every controller reconciles everything it owns
/// even without a change (a safety net; changes are handled as they come).</summary>
internal sealed record ControlPlaneOptions
{
    public TimeSpan Resync { get; init; } = TimeSpan.FromSeconds(30);
    public NodeLifecycleSettings NodeLifecycle { get; init; } = NodeLifecycleSettings.Default;
    public NodeGatewaySettings NodeGateway { get; init; } = NodeGatewaySettings.Default;

    /// <summary>How often each HorizontalPodAutoscaler is synced (Kubernetes' --horizontal-pod-autoscaler-sync-period, 15 s).</summary>
    public TimeSpan AutoscalerSyncPeriod { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>The addresses LoadBalancer Services get (--load-balancer-pool).</summary>
    public LoadBalancerPool LoadBalancerPool { get; init; } = LoadBalancerPool.Parse(LoadBalancerPool.DefaultCidr);

    /// <summary>How the client signers sign; null: certificate signing requests are never signed.</summary>
    public CertificateSigningSettings? Signing { get; init; }

    public static ControlPlaneOptions Default { get; } = new();

    /// <summary>The defaults, overridden by master flags in seconds (Kubernetes' names):
    /// --node-monitor-grace-period (40), --node-monitor-period (5),
    /// --controller-resync-period (30), and kube-controller-manager's --node-eviction-rate (0.1), --secondary-node-eviction-rate (0.01),
    /// --unhealthy-zone-threshold (0.55), --large-cluster-size-threshold (50), --horizontal-pod-autoscaler-sync-period (15), --node-status-report-frequency (300: how often an unchanged node
    /// status is written to the Node; liveness is the node's Lease, renewed on every heartbeat).</summary>
    public static ControlPlaneOptions From(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        // periods may not be 0 (how long pods stay on a NotReady node is the DefaultTolerationSeconds plugin's settings)
        TimeSpan Seconds(string key, TimeSpan fallback, double minimum = double.Epsilon) =>
            double.TryParse(configuration[key], System.Globalization.CultureInfo.InvariantCulture, out var s) && s >= minimum
                ? TimeSpan.FromSeconds(s) : fallback;
        var d = NodeLifecycleSettings.Default;
        return new ControlPlaneOptions
        {
            Resync = Seconds("controller-resync-period", Default.Resync),
            NodeLifecycle = new NodeLifecycleSettings(
                Seconds("node-monitor-grace-period", d.GracePeriod),
                Seconds("node-monitor-period", d.MonitorPeriod)) { Eviction = Controllers.NodeLifecycle.NodeEvictionSettings.From(configuration) },
            NodeGateway = new NodeGatewaySettings(Seconds("node-status-report-frequency", NodeGatewaySettings.Default.StatusReportFrequency)),
            AutoscalerSyncPeriod = Seconds("horizontal-pod-autoscaler-sync-period", Default.AutoscalerSyncPeriod),
            LoadBalancerPool = LoadBalancerPool.TryParse(configuration["load-balancer-pool"] ?? "", out var pool) ? pool! : Default.LoadBalancerPool,
        };
    }
}

/// <summary>The control plane as tests and benchmarks start it on a bare actor system: the same actors the master starts
/// in <c>MasterProgram</c>'s control-plane step (the admission gateway, the controllers behind it, the scheduler and the
/// NodeGateway).</summary>
internal static class ControlPlaneHosting
{
    /// <summary>Starts every control loop against <paramref name="store"/> (which keeps the resources of
    /// <paramref name="catalog"/>); returns the NodeGateway. The nodes' usage goes into <paramref name="usage"/> (a new
    /// cache when none is given), which the autoscaler reads.</summary>
    /// <remarks>The controllers write through <see cref="StartAdmission"/>'s gateway, as the master's do: with
    /// <paramref name="webhooks"/> (the API's dispatcher) when the test runs an API, else with one of their own
    /// (<see cref="StandaloneWebhooks"/>).</remarks>
    public static IActorRef Start(ActorSystem system, IActorRef store, ControlPlaneOptions o, IResourceCatalog catalog,
        ResourceMetrics.ResourceUsageCache? usage = null, WebhookDispatcher? webhooks = null)
    {
        usage ??= new ResourceMetrics.ResourceUsageCache();
        var admission = StartAdmission(system, store, (ResourceCatalog)catalog, webhooks ?? StandaloneWebhooks(system, store));
        ControllersHosting.Start(system, admission, o.Resync, o.NodeLifecycle, catalog, o.Signing, usage: usage,
            autoscalerSyncPeriod: o.AutoscalerSyncPeriod, loadBalancerPool: o.LoadBalancerPool,
            legacyTokens: o.NodeGateway.Tokens is { } tokens ? LegacyTokens(tokens) : null,
            policySchemas: new Api.Discovery.OpenApiPolicySchemas((ResourceCatalog)catalog));
        SchedulerHosting.Start(system, store, o.Resync);
        return NodeGatewayHosting.Start(system, store, o.NodeGateway with { ResourceUsage = usage }, o.Resync);
    }

    /// <summary>The actor between the controllers and <paramref name="store"/> that runs the admission webhooks on their
    /// writes (<see cref="ControllerAdmissionGateway"/>), each controller's user from <see cref="ControllerAccounts"/>.</summary>
    public static IActorRef StartAdmission(ActorSystem system, IActorRef store, ResourceCatalog catalog, WebhookDispatcher webhooks) =>
        system.ActorOf(ControllerAdmissionGateway.Props(store, catalog, webhooks, ControllerAccounts.Of), ControllerAdmissionGateway.ActorName);

    /// <summary>A dispatcher for a control plane without an API server (tests, benchmarks): webhooks by URL are called as
    /// the master calls them; a service's webhook is reached through a kubelet tunnel with a CA of its own, which no
    /// node trusts, so it fails as an unreachable webhook does.</summary>
    public static WebhookDispatcher StandaloneWebhooks(ActorSystem system, IActorRef store)
    {
        var client = new ObjectStoreClient(system, _ => Task.FromResult(store), TimeSpan.FromSeconds(30));
        var kubelet = new KubeletConnection(client, new KubeletCredentials(new KubeletCertificateAuthority(KubeletCertificateAuthority.CreateCertificate())),
            KubeletTimeouts.Default, NullLogger<KubeletConnection>.Instance);
        return new WebhookDispatcher(client, new WebhookClients(new PodTunnel(client, kubelet)), NullLogger<WebhookDispatcher>.Instance);
    }

    /// <summary>The token controller's signer: legacy tokens with the key that signs (and checks) the bound ones.</summary>
    public static LegacyTokenSigner LegacyTokens(Identity.ServiceAccountTokens tokens) =>
        (ns, name, uid, secret) => tokens.SignLegacy(new Identity.LegacyTokenClaims(ns, name, uid, secret));
}
