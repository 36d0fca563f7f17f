using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.CustomResources;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Leadership;

/// <summary>
/// What a master that does not hold the control plane serves from its own replica of the store (docs/multi-master.md):
/// GET, list and watch of the objects of a stored resource it describes itself (the built-in kinds, and the custom
/// resources whose definitions <see cref="CustomResourceDescriptionMirror"/> has read from the replica; one not described
/// here yet is forwarded). Everything else goes to the leader: writes, subresources (status, log, exec, proxy, …),
/// computed resources (metrics.k8s.io), discovery and OpenAPI. And the replica's side of a forwarded write: the answer
/// waits until the replica has caught up with the leader and the definitions it holds are described, so that a client
/// reads its write here.
/// </summary>
internal sealed class ReplicaReads(ReplicaHealth health, ResourceCatalog catalog, IRequiredActor<StoreReplica> replica,
    IRequiredActor<CustomResourceDescriptionMirror> descriptions)
{
    /// <summary>How long a forwarded write's answer waits for the replica at most (it waits 3 s itself).</summary>
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(5);

    public bool Following => health.Following;

    /// <summary>Whether the request (its path as the client sent it) is a read this master answers from its replica.</summary>
    public bool Serves(HttpContext context, string rawPath)
    {
        if (!health.Following || !HttpMethods.IsGet(context.Request.Method)) return false;
        if (RequestInfo.Parse(rawPath) is not { IsGroupVersionRoot: false, Subresource: null } info) return false;
        if (context.RequestServices.GetServices<IResourceView>().Any(v => v.Serves(info))) return false;
        return catalog.Current.Find(info.Group, info.Version, info.ResourceName!) is not null;
    }

    /// <summary>Waits until the replica has applied the leader's resourceVersion of now; false when it could not (the
    /// answer then goes out anyway: the write is done).</summary>
    public async Task<bool> CatchUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            var store = await replica.GetAsync(cancellationToken);
            if (await store.Ask<object>(CatchUp.Instance, CatchUpTimeout, cancellationToken) is not CaughtUp) return false;
            // the replica sent the mirror every change it applied before it answered: this comes after them
            var mirror = await descriptions.GetAsync(cancellationToken);
            return await mirror.Ask<object>(CustomResourceDescriptionMirror.Sync.Instance, CatchUpTimeout, cancellationToken) is CustomResourceDescriptionMirror.Synced;
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return false;
        }
    }
}
