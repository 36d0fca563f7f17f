using Akka.Actor;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// The user each controller writes as, as kube-controller-manager names them with --use-service-account-credentials: the
/// ServiceAccount kube-system/NAME of the controller's entry in kube's bootstrap policy (system:controller:NAME), in the
/// groups every ServiceAccount is in. What kube-apiserver does itself (the kubernetes Service's endpoints, the bootstrap
/// RBAC policy, APIService registration, the priority-and-fairness defaults) is its loopback user system:apiserver; the
/// legacy token controller runs on kube-controller-manager's own credential. Found from the sender's top-level actor
/// (a controller or one of its children: store calls, reflectors), as the store finds field managers
/// (<see cref="ControlPlaneManagers"/>).
/// </summary>
internal static class ControllerAccounts
{
    private static readonly Dictionary<string, string> ServiceAccounts = new(StringComparer.Ordinal)
    {
        ["root-ca-cert-publisher"] = "root-ca-cert-publisher",
        ["deployment-controller"] = "deployment-controller",
        ["replicaset-controller"] = "replicaset-controller",
        ["replicationcontroller-controller"] = "replication-controller",
        ["endpoints-controller"] = "endpoint-controller",
        ["endpointslice-controller"] = "endpointslice-controller",
        ["endpointslicemirroring-controller"] = "endpointslicemirroring-controller",
        ["persistentvolume-binder-controller"] = "persistent-volume-binder",
        // k3s' local-path provisioner runs as a pod with this account
        ["local-path-provisioner"] = "local-path-provisioner-service-account",
        ["ephemeral-volume-controller"] = "ephemeral-volume-controller",
        ["garbage-collector"] = "generic-garbage-collector",
        ["node-lifecycle-controller"] = "node-controller",
        // kube: "taint-manager uses existing cluster role from node-controller"
        ["taint-eviction-controller"] = "node-controller",
        ["pod-garbage-collector"] = "pod-garbage-collector",
        ["namespace-controller"] = "namespace-controller",
        ["serviceaccount-controller"] = "service-account-controller",
        ["clusterrole-aggregation-controller"] = "clusterrole-aggregation-controller",
        ["job-controller"] = "job-controller",
        ["cronjob-controller"] = "cronjob-controller",
        ["daemonset-controller"] = "daemon-set-controller",
        ["statefulset-controller"] = "statefulset-controller",
        ["disruption-controller"] = "disruption-controller",
        ["resourcequota-controller"] = "resourcequota-controller",
        ["horizontal-pod-autoscaler"] = "horizontal-pod-autoscaler",
        ["csrsigning-controller"] = "certificate-controller",
        ["csrcleaner-controller"] = "certificate-controller",
        // the cloud provider's service controller assigns LoadBalancer addresses in kube
        ["service-lb-controller"] = "service-controller",
        // no kube counterpart (an ingress controller runs as a pod with an account of its own): named after the actor
        ["ingress-controller"] = "ingress-controller",
        ["validatingadmissionpolicy-status-controller"] = "validatingadmissionpolicy-status-controller",
    };

    private static readonly HashSet<string> ApiServer = new(StringComparer.Ordinal)
    {
        "apiserver-endpoints-reconciler", "rbac-bootstrap", "apiservice-registration-controller", "priority-and-fairness-config-controller",
    };

    public static readonly AdmissionUser ApiServerUser = new("system:apiserver", "", ["system:authenticated", "system:masters"],
        new Dictionary<string, IReadOnlyList<string>>());

    public static readonly AdmissionUser ControllerManagerUser = new("system:kube-controller-manager", "", ["system:authenticated"],
        new Dictionary<string, IReadOnlyList<string>>());

    private static readonly Dictionary<string, AdmissionUser> Users = ServiceAccounts.ToDictionary(kv => kv.Key, kv => ServiceAccount(kv.Value));

    /// <summary>system:serviceaccount:kube-system:NAME in system:serviceaccounts, system:serviceaccounts:kube-system and
    /// system:authenticated (kube's serviceaccount.UserInfo).</summary>
    public static AdmissionUser ServiceAccount(string name) => new($"system:serviceaccount:kube-system:{name}", "",
        ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"], new Dictionary<string, IReadOnlyList<string>>());

    /// <summary>The user of the controller <paramref name="sender"/> belongs to; null for a sender outside the controllers.
    /// The storage protection controller is kube's two: pvc-protection-controller and pv-protection-controller.</summary>
    public static AdmissionUser? Of(IActorRef sender, string resource)
    {
        var elements = sender.Path.Elements;
        if (elements.Count < 2 || elements[0] != "user") return null;
        var actor = elements[1];
        if (actor == "storage-protection-controller")
            return ServiceAccount(resource == "persistentvolumes" ? "pv-protection-controller" : "pvc-protection-controller");
        if (ApiServer.Contains(actor)) return ApiServerUser;
        if (actor == "serviceaccount-token-controller") return ControllerManagerUser;
        return Users.GetValueOrDefault(actor);
    }
}
