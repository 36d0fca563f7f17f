using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.Storage;

namespace Orchestrator.Master.Api.FlowControl;

/// <summary>
/// The request filter's informer: FlowSchemas and PriorityLevelConfigurations kept current from the store's watch and
/// handed to the <see cref="FlowControlLimiter"/> as a new <see cref="FlowControlConfiguration"/> after each burst of
/// changes. Until both are listed the limiter runs on the mandatory objects alone (exempt for system:masters,
/// catch-all for everyone else), as kube's config controller imagines them.
/// </summary>
internal sealed class FlowControlCache(ObjectStoreClient store, FlowControlLimiter limiter, FlowControlOptions options) : IHostedService
{
    public static readonly string[] Resources = ["flowschemas", "prioritylevelconfigurations"];

    private IActorRef? _informer;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _informer = StoreInformers.Start("apf-informer", store, Resources, cache => limiter.Reconfigure(new FlowControlConfiguration(
            cache.List<V1FlowSchema>("flowschemas"), cache.List<V1PriorityLevelConfiguration>("prioritylevelconfigurations"),
            options.ServerConcurrencyLimit)));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _informer?.Tell(PoisonPill.Instance);
        return Task.CompletedTask;
    }
}

/// <summary>The server's total concurrency (kube's --max-requests-inflight + --max-mutating-requests-inflight, 600 by
/// default) and how long a request may wait in a queue (a quarter of --request-timeout, as kube-apiserver's filter).</summary>
internal sealed record FlowControlOptions(int ServerConcurrencyLimit, TimeSpan QueueWait)
{
    public const int DefaultMaxRequestsInflight = 400;
    public const int DefaultMaxMutatingRequestsInflight = 200;
}
