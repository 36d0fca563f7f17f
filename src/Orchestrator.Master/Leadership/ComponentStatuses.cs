using Akka.Actor;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Leadership;

/// <summary>
/// core/v1 componentstatuses (<c>kubectl get componentstatuses</c>), get and list, probed on each request as
/// kube-apiserver probes the scheduler's, the controller manager's and etcd's health endpoints: here the control plane's
/// actors, wherever it runs (this master, or the leader of several), each asked to identify itself. A part that answers
/// is Healthy ("ok"); one that does not, within <see cref="ControlPlaneProbe.Timeout"/>, is Unhealthy with the reason
/// as its error. The storage backend is <c>store-0</c> (SQLite or PostgreSQL behind the object store, not etcd).
/// </summary>
internal sealed class ComponentStatuses(ActorSystem system, MasterLeadership leadership, ApiResponses responses, StoreHealth? store = null)
    : IResourceView
{
    public Registry.Catalog.ResourceDescription Resource => CoreResources.ComponentStatuses;

    public async Task HandleAsync(HttpContext context, RequestInfo info)
    {
        this.RequireRead(context, info);
        var cluster = Akka.Cluster.Cluster.Get(system);
        var where = leadership.HostsControlPlane ? null : MasterLeadership.Find(cluster.State, cluster.SelfMember);
        if (info.Name is { } name)
        {
            if (ControlPlaneProbe.Components.All(c => c.Name != name)) throw ApiException.NotFound(Resource, name);
            var one = await ControlPlaneProbe.ProbeAsync(system, where, LocalStore, context.RequestAborted, only: name);
            await responses.WriteObjectAsync(context, Resource, one.Single());
            return;
        }
        var query = ListQuery.From(context, Resource);
        var all = await ControlPlaneProbe.ProbeAsync(system, where, LocalStore, context.RequestAborted);
        var items = all.Where(query.Matches).Cast<IKubernetesObject<V1ObjectMeta>>().ToList();
        await responses.WriteListAsync(context, Resource, items, new V1ListMeta());
    }

    // the store's own readiness, when it is this master's (a follower's replica says nothing of the leader's)
    private string? LocalStore() => leadership.HostsControlPlane ? store?.NotReadyReason : null;
}

/// <summary>Probes the control plane's actors (<see cref="ComponentStatuses"/>).</summary>
internal static class ControlPlaneProbe
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>Each component and the top-level actors that must answer for it (the controller manager: the controllers
    /// every workload depends on).</summary>
    public static readonly IReadOnlyList<(string Name, string[] Actors)> Components =
    [
        ("controller-manager", ["deployment-controller", "replicaset-controller", "node-lifecycle-controller", "garbage-collector",
            "namespace-controller", "endpointslice-controller"]),
        ("scheduler", ["scheduler"]),
        ("store-0", [ObjectStore.ActorName]),
    ];

    /// <param name="where">The leader when the control plane is another master's; null: this master's.</param>
    /// <param name="localStore">The local store's reason not to be ready (null: ready or not local).</param>
    public static async Task<IReadOnlyList<V1ComponentStatus>> ProbeAsync(ActorSystem system, LeaderView? where,
        Func<string?> localStore, CancellationToken cancellationToken, string? only = null)
    {
        var probes = Components.Where(c => only is null || c.Name == only)
            .Select(async c => Status(c.Name, await FailureAsync(system, where, c.Actors, cancellationToken)
                                              ?? (c.Actors.Contains(ObjectStore.ActorName) ? localStore() : null)));
        return await Task.WhenAll(probes);
    }

    private static async Task<string?> FailureAsync(ActorSystem system, LeaderView? where, string[] actors, CancellationToken cancellationToken)
    {
        if (where is { Address: null }) return "no master holds the control plane";
        if (where is { Reachable: false }) return $"the master holding the control plane ({where.Address}) is unreachable";
        var answers = await Task.WhenAll(actors.Select(async name =>
        {
            var path = "/user/" + name;
            var selection = where?.Address is { } address
                ? system.ActorSelection(new RootActorPath(address) / "user" / name)
                : system.ActorSelection(path);
            try
            {
                var identity = await selection.Ask<ActorIdentity>(new Identify(name), Timeout, cancellationToken);
                return identity.Subject is null ? $"{path} is not running" : null;
            }
            catch (AskTimeoutException)
            {
                return $"{path} did not answer within {Timeout.TotalSeconds:0} s";
            }
        }));
        return answers.FirstOrDefault(a => a is not null);
    }

    private static V1ComponentStatus Status(string name, string? failure) => new()
    {
        ApiVersion = "v1", Kind = "ComponentStatus", Metadata = new V1ObjectMeta { Name = name },
        Conditions = [failure is null
            ? new V1ComponentCondition { Type = "Healthy", Status = "True", Message = "ok" }
            : new V1ComponentCondition { Type = "Healthy", Status = "False", Error = failure }],
    };
}
