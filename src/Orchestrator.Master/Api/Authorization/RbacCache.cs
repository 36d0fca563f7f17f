using Akka.Actor;
using Akka.Event;
using k8s.Models;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;

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
        _informer = store.System.ActorOf(Props.Create(() => new RbacInformer(this, store)), "rbac-informer-" + Guid.NewGuid().ToString("N")[..8]);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _informer?.Tell(PoisonPill.Instance);
        return Task.CompletedTask;
    }

    /// <summary>Lists and watches the four RBAC resources with the control loops' reflectors and publishes each change.</summary>
    private sealed class RbacInformer : ReceiveActor, IWithTimers
    {
        private sealed record Resolve;

        private readonly ObjectCache _cache = new();
        private readonly HashSet<string> _unsynced = [.. Resources];
        private readonly ILoggingAdapter _log = Context.GetLogger();

        public ITimerScheduler Timers { get; set; } = null!;

        public RbacInformer(RbacCache owner, ObjectStoreClient store)
        {
            Receive<Resolve>(_ => store.StoreAsync(CancellationToken.None).PipeTo(Self, failure: e => new Status.Failure(e)));
            Receive<IActorRef>(storeRef =>
            {
                foreach (var resource in Resources)
                    Context.ActorOf(ResourceReflector.Props(storeRef, resource, Self), "reflect-" + resource);
            });
            Receive<Status.Failure>(f =>
            {
                _log.Warning("rbac informer: store not reachable ({0}); retrying", f.Cause.Message);
                Timers.StartSingleTimer("resolve", new Resolve(), TimeSpan.FromSeconds(1));
            });
            Receive<ResourceListed>(listed =>
            {
                _cache.Replace(listed.Resource, listed.Items, listed.ResourceVersion);
                _unsynced.Remove(listed.Resource);
                Publish(owner);
            });
            Receive<ObjectChanged>(change =>
            {
                _cache.Apply(change, out var applied);
                if (applied) Publish(owner);
            });
        }

        protected override void PreStart() => Self.Tell(new Resolve());

        private void Publish(RbacCache owner)
        {
            if (_unsynced.Count > 0) return;
            owner.Publish(new RbacPolicy(_cache.List<V1ClusterRole>("clusterroles"), _cache.List<V1Role>("roles"),
                _cache.List<V1ClusterRoleBinding>("clusterrolebindings"), _cache.List<V1RoleBinding>("rolebindings")));
        }
    }
}
