using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers.Rbac;

/// <summary>
/// Creates the default ClusterRoles and ClusterRoleBindings of <see cref="BootstrapPolicy"/> that are missing, once the
/// cluster's roles and bindings are listed (as kube-apiserver's rbac/bootstrap-roles post-start hook does at every
/// start). Objects that exist are left as they are, and a default deleted later is created again at the next start.
/// A create the store refuses (a full write queue, a journal that cannot write for a moment) is tried again every
/// second until the default exists, as the post-start hook retries: without system:basic-user no user could even ask
/// who it is.
/// </summary>
internal sealed class RbacBootstrapController : ControllerActor
{
    private const string ClusterRoles = "clusterroles";
    private const string ClusterRoleBindings = "clusterrolebindings";

    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    /// <summary>The defaults missing at this start and not created yet, by key.</summary>
    private readonly Dictionary<ResourceKey, IKubernetesObject<V1ObjectMeta>> _missing = [];

    public RbacBootstrapController(IActorRef store) : base(store, [ClusterRoles, ClusterRoleBindings], TimeSpan.Zero)
    {
    }

    public static Props Props(IActorRef store) => Akka.Actor.Props.Create(() => new RbacBootstrapController(store));

    protected override void OnSynced()
    {
        foreach (var role in BootstrapPolicy.ClusterRoles())
            _missing[new ResourceKey(ClusterRoles, null, role.Metadata.Name)] = role;
        foreach (var binding in BootstrapPolicy.ClusterRoleBindings())
            _missing[new ResourceKey(ClusterRoleBindings, null, binding.Metadata.Name)] = binding;
    }

    protected override IEnumerable<ResourceKey> AllKeys() => _missing.Keys.ToList();

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (!_missing.TryGetValue(key, out var wanted)) return;
        if (Cache.Get(key) is not null)
        {
            _missing.Remove(key);
            return;
        }
        Send(new CreateObject(key.Resource, wanted), key);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        var key = (ResourceKey)reply.Tag;
        // 409 AlreadyExists: another writer was first, which is what we wanted
        if (reply.Failed is not { } f || f.Error.Code == 409)
        {
            _missing.Remove(key);
            return;
        }
        Log.Warning("could not create default {0}: {1} {2}; retrying", key.Name, f.Error.Code, f.Error.Message);
        RequeueAfter(key, RetryInterval);
    }
}
