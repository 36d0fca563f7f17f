using Akka.Actor;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers;

internal static class ControllersHosting
{
    /// <summary>Starts the controllers as top-level actors writing through <paramref name="store"/>: the master gives them
    /// the composition root's admission gateway (ControlPlaneHosting.StartAdmission), so their writes reach the admission
    /// webhooks. <paramref name="resync"/> is how often
    /// each reconciles everything it owns even without a change. <paramref name="rootCaPem"/>, the API server's serving
    /// CA, is published into every namespace (kube-root-ca.crt) when given; LoadBalancer Services get addresses of
    /// <paramref name="loadBalancerPool"/> (default 127.0.100.0/24); the kubernetes Service's Endpoints name
    /// <paramref name="apiServer"/> when given (with <c>severalMasters</c>: every live master's API, from the cluster's members).
    /// Without <paramref name="signing"/> (tests without a CA) certificate signing requests are never signed;
    /// without <paramref name="legacyTokens"/> (tests without a signing key) legacy token Secrets are left as they are. The
    /// autoscaler reads the nodes' usage from <paramref name="usage"/> (none given: an empty one, so it finds no metrics).
    /// ValidatingAdmissionPolicies are type-checked against the kinds and schemas of <paramref name="policySchemas"/>
    /// (none given: their status is not written).</summary>
    public static void Start(ActorSystem system, IActorRef store, TimeSpan resync, NodeLifecycleSettings nodeLifecycle,
        IResourceCatalog catalog, Certificates.CertificateSigningSettings? signing = null, string? rootCaPem = null,
        ResourceMetrics.ResourceUsageCache? usage = null, TimeSpan? autoscalerSyncPeriod = null,
        LoadBalancers.LoadBalancerPool? loadBalancerPool = null, (string Address, int Port)? apiServer = null, bool severalMasters = false,
        LegacyTokenSigner? legacyTokens = null, Admission.Policies.IPolicySchemaSource? policySchemas = null)
    {
        if (apiServer is { } api)
            system.ActorOf(ApiServerEndpointsReconciler.Props(store, resync, api.Address, api.Port, severalMasters), "apiserver-endpoints-reconciler");
        if (rootCaPem is not null) system.ActorOf(RootCaPublisher.Props(store, resync, rootCaPem), "root-ca-cert-publisher");
        system.ActorOf(DeploymentController.Props(store, resync), "deployment-controller");
        system.ActorOf(ReplicaSetController.Props(store, resync), "replicaset-controller");
        system.ActorOf(ReplicationControllerController.Props(store, resync), "replicationcontroller-controller");
        system.ActorOf(EndpointsController.Props(store, resync), "endpoints-controller");
        system.ActorOf(EndpointSliceController.Props(store, resync), "endpointslice-controller");
        system.ActorOf(EndpointSliceMirroringController.Props(store, resync), "endpointslicemirroring-controller");
        system.ActorOf(PersistentVolumeBinder.Props(store, resync), "persistentvolume-binder-controller");
        system.ActorOf(LocalPathProvisioner.Props(store, resync), "local-path-provisioner");
        system.ActorOf(StorageProtectionController.Props(store, resync), "storage-protection-controller");
        system.ActorOf(EphemeralVolumeController.Props(store, resync), "ephemeral-volume-controller");
        system.ActorOf(GarbageCollector.Props(store, resync, catalog), "garbage-collector");
        system.ActorOf(NodeLifecycleController.Props(store, nodeLifecycle), "node-lifecycle-controller");
        system.ActorOf(TaintEvictionController.Props(store, resync), "taint-eviction-controller");
        system.ActorOf(PodGarbageCollector.Props(store, resync), "pod-garbage-collector");
        system.ActorOf(NamespaceController.Props(store, resync, catalog), "namespace-controller");
        system.ActorOf(ApiServiceRegistration.Props(store, resync, catalog), "apiservice-registration-controller");
        system.ActorOf(FlowControlConfigurationController.Props(store, resync), "priority-and-fairness-config-controller");
        if (policySchemas is not null)
            system.ActorOf(ValidatingAdmissionPolicyStatusController.Props(store, resync, policySchemas),
                ValidatingAdmissionPolicyStatusController.ActorName);
        system.ActorOf(ServiceAccountsController.Props(store, resync), "serviceaccount-controller");
        if (legacyTokens is not null)
            system.ActorOf(LegacyTokenController.Props(store, resync, legacyTokens, rootCaPem), "serviceaccount-token-controller");
        system.ActorOf(Rbac.RbacBootstrapController.Props(store), "rbac-bootstrap");
        system.ActorOf(Rbac.ClusterRoleAggregationController.Props(store, resync), "clusterrole-aggregation-controller");
        system.ActorOf(JobController.Props(store, resync), "job-controller");
        system.ActorOf(CronJobController.Props(store, resync), "cronjob-controller");
        system.ActorOf(DaemonSetController.Props(store, resync), "daemonset-controller");
        system.ActorOf(StatefulSetController.Props(store, resync), "statefulset-controller");
        system.ActorOf(DisruptionController.Props(store, resync), "disruption-controller");
        system.ActorOf(ResourceQuotaController.Props(store, resync, catalog), "resourcequota-controller");
        system.ActorOf(HorizontalPodAutoscalerController.Props(store, usage ?? new ResourceMetrics.ResourceUsageCache(), autoscalerSyncPeriod),
            "horizontal-pod-autoscaler");
        if (signing is not null) system.ActorOf(CertificateSigningController.Props(store, signing, resync), "csrsigning-controller");
        system.ActorOf(CertificateSigningRequestCleaner.Props(store, resync), "csrcleaner-controller");
        system.ActorOf(IngressController.Props(store, resync), "ingress-controller");
        system.ActorOf(LoadBalancerController.Props(store, loadBalancerPool ?? LoadBalancers.LoadBalancerPool.Parse(LoadBalancers.LoadBalancerPool.DefaultCidr), resync),
            "service-lb-controller");
    }
}
