using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Api.Storage;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>
/// The authorizer's informer: the roles and bindings kept current from the store's watch (never a store request per
/// API request), published as an immutable <see cref="RbacPolicy"/> swapped on every change. Until all four resources
/// are listed the policy is empty, so only system:masters is allowed anything (kube-apiserver waits for its RBAC
/// informers the same way).
/// </summary>
internal sealed class RbacCache(ObjectStoreClient store) : IHostedService
{
    public static readonly string[] Resources = ["clusterroles", "roles", "clusterrolebindings", "rolebindings"];

    private volatile RbacPolicy _policy = RbacPolicy.Empty;
    private IActorRef? _informer;

    public RbacPolicy Policy => _policy;

    public bool Synced { get; private set; }

    internal void Publish(RbacPolicy policy)
    {
        _policy = policy;
        Synced = true;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _informer = StoreInformers.Start("rbac-informer", store, Resources, cache => Publish(new RbacPolicy(cache.List<V1ClusterRole>("clusterroles"),
            cache.List<V1Role>("roles"), cache.List<V1ClusterRoleBinding>("clusterrolebindings"), cache.List<V1RoleBinding>("rolebindings"))));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _informer?.Tell(PoisonPill.Instance);
        return Task.CompletedTask;
    }
}
