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
/// </summary>
internal sealed class RbacBootstrapController : ControllerActor
{
    private const string ClusterRoles = "clusterroles";
    private const string ClusterRoleBindings = "clusterrolebindings";

    public RbacBootstrapController(IActorRef store) : base(store, [ClusterRoles, ClusterRoleBindings], TimeSpan.Zero)
    {
    }

    public static Props Props(IActorRef store) => Akka.Actor.Props.Create(() => new RbacBootstrapController(store));

    protected override void OnSynced()
    {
        foreach (var role in BootstrapPolicy.ClusterRoles())
            if (Cache.Get<V1ClusterRole>(ClusterRoles, null, role.Metadata.Name) is null)
                Send(new CreateObject(ClusterRoles, role), role.Metadata.Name);
        foreach (var binding in BootstrapPolicy.ClusterRoleBindings())
            if (Cache.Get<V1ClusterRoleBinding>(ClusterRoleBindings, null, binding.Metadata.Name) is null)
                Send(new CreateObject(ClusterRoleBindings, binding), binding.Metadata.Name);
    }

    protected override IEnumerable<ResourceKey> AllKeys() => [];

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
    }

    protected override void Reconcile(ResourceKey key)
    {
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        // 409 AlreadyExists: another writer was first, which is what we wanted
        if (reply.Failed is { } f && f.Error.Code != 409)
            Log.Warning("could not create default {0}: {1} {2}", reply.Tag, f.Error.Code, f.Error.Message);
    }
}
