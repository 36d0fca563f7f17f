using Orchestrator.Master.Store;
using Orchestrator.Shared.Hosting;

namespace Orchestrator.Master;

/// <summary>Every flag of orchestrator-master with its default; Program reads the resolved values as configuration.
/// Environment variables: ORCHESTRATOR_MASTER_&lt;FLAG&gt; (ORCH_* belongs to the deploy scripts).</summary>
internal static class MasterFlags
{
    public const string EnvironmentPrefix = "ORCHESTRATOR_MASTER_";

    public static ProcessFlags Definition { get; } = new("orchestrator-master", EnvironmentPrefix,
        "The Orchestrator master: the Kubernetes API (HTTPS), the object store, the controllers, the scheduler, and the cluster the nodes join.",
        [
            new("data-dir", "The store, the CA, the API token and the cluster certificate (cluster.pfx) live here.", "./.state/master"),
            new("api-address", "The address the API listens on (HTTPS).", "127.0.0.1"),
            new("api-port", "The API's port.", "6443", FlagKind.Port),
            new("tls-san", "More names or IP addresses (comma-separated) on the API's serving certificate, besides --api-address, 127.0.0.1, localhost and the kubernetes Service's names: the addresses clients dial through a load balancer in front of several masters (k3s' --tls-san).",
                "", Check: Api.Security.ServingCertificates.SubjectAlternativeNamesProblem),
            new("request-timeout", "The longest a request that is not long-running may take before it is answered 504 Timeout and its work cancelled (a Go duration, kube-apiserver's --request-timeout); a client's ?timeout= (kubectl --request-timeout) may shorten it. Watches, logs, exec, attach, port-forward and proxies are not bounded by it.",
                "1m0s", Check: Api.ApiServerOptions.RequestTimeoutProblem),
            new("max-requests-inflight", "With --max-mutating-requests-inflight, the server's total concurrency limit (their sum, which must be positive), shared among the priority levels of API Priority and Fairness (kube-apiserver's flag).",
                "400", Check: Api.ApiServerOptions.NonNegativeProblem),
            new("max-mutating-requests-inflight", "The other part of the server's total concurrency limit (see --max-requests-inflight).",
                "200", Check: Api.ApiServerOptions.NonNegativeProblem),
            new("cluster-address", "The address of this master in the cluster the nodes join (Akka remoting over TLS); reachable by every node.", "127.0.0.1"),
            new("cluster-port", "The cluster port the nodes connect to.", "4050", FlagKind.Port),
            new("peers", "Several masters: every master's --cluster-address:--cluster-port, this one's included, in the same order on each (like etcd's --initial-cluster). They form one cluster; the control plane runs on the oldest, the others forward the API to it. Needs --datastore-endpoint.",
                null, DefaultText: "this master alone"),
            new("service-cidr", "The range of Service ClusterIPs (the upper half of the pods' Docker network).", ClusterIpRange.DefaultCidr,
                Check: ServiceCidrProblem),
            new("load-balancer-pool", "The addresses LoadBalancer Services get (an IPv4 CIDR); every node's proxy serves them. A loopback range needs no set-up; other addresses must be the machine's own.",
                Controllers.LoadBalancers.LoadBalancerPool.DefaultCidr, Check: Controllers.LoadBalancers.LoadBalancerPool.Problem),
            new("node-monitor-grace-period", "A node without a heartbeat for this long is NotReady (its conditions Unknown).", "40", FlagKind.Seconds),
            new("node-monitor-period", "How often the node lifecycle controller checks the nodes.", "5", FlagKind.Seconds),
            new(Admission.Pods.DefaultTolerationSeconds.Settings.NotReadyFlag, "The tolerationSeconds of the node.kubernetes.io/not-ready:NoExecute toleration every pod without one gets: how long its node may be NotReady before the pod is evicted (deleted, so its controller recreates it elsewhere).",
                null, DefaultText: "--pod-eviction-timeout, else 300", Check: Admission.Pods.DefaultTolerationSeconds.Settings.Problem),
            new(Admission.Pods.DefaultTolerationSeconds.Settings.UnreachableFlag, "The tolerationSeconds of the node.kubernetes.io/unreachable:NoExecute toleration every pod without one gets: how long its node may have stopped reporting before the pod is evicted.",
                null, DefaultText: "--pod-eviction-timeout, else 300", Check: Admission.Pods.DefaultTolerationSeconds.Settings.Problem),
            new(Admission.Pods.DefaultTolerationSeconds.Settings.PodEvictionTimeoutFlag, "Both of the above at once (rounded up to whole seconds): the pods of a node NotReady or unreachable for this long are evicted. Applies to pods created after it is set, as their tolerations carry it.",
                null, FlagKind.SecondsOrZero, DefaultText: "300"),
            new(Controllers.NodeLifecycle.NodeEvictionSettings.EvictionRateFlag, "How many NotReady nodes a second are tainted NoExecute (their pods evicted as their tolerations run out), per zone (topology.kubernetes.io/zone), while the zone is healthy or entirely down; the first one at once (kube-controller-manager's flag).",
                "0.1", Check: Controllers.NodeLifecycle.NodeEvictionSettings.NumberProblem),
            new(Controllers.NodeLifecycle.NodeEvictionSettings.SecondaryEvictionRateFlag, "The same in a partially disrupted zone (see --unhealthy-zone-threshold) of more than --large-cluster-size-threshold nodes; a smaller one stops tainting.",
                "0.01", Check: Controllers.NodeLifecycle.NodeEvictionSettings.NumberProblem),
            new(Controllers.NodeLifecycle.NodeEvictionSettings.UnhealthyZoneThresholdFlag, "A zone with more than 2 NotReady nodes and at least this fraction of its nodes NotReady is partially disrupted. When every zone has no Ready node at all, no node is tainted NoExecute and the taints come off.",
                "0.55", Check: Controllers.NodeLifecycle.NodeEvictionSettings.NumberProblem),
            new(Controllers.NodeLifecycle.NodeEvictionSettings.LargeClusterThresholdFlag, "A partially disrupted zone of more nodes than this goes on at --secondary-node-eviction-rate; a smaller one stops.",
                "50", Check: Controllers.NodeLifecycle.NodeEvictionSettings.WholeNumberProblem),
            new("node-status-report-frequency", "How often an unchanged node status is written to its Node (the kubelet's nodeStatusReportFrequency); a changed one is written at once, and every heartbeat renews the node's Lease.", "300", FlagKind.Seconds),
            new("controller-resync-period", "How often every controller reconciles all it owns even without a change.", "30", FlagKind.Seconds),
            new("horizontal-pod-autoscaler-sync-period", "How often each HorizontalPodAutoscaler reads the metrics and scales its target.", "15", FlagKind.Seconds),
            new("cluster-stable-after", "Cluster downing decides once reachability has been stable this long.", null, FlagKind.Seconds,
                DefaultText: "7; 4 with several masters, so that the control plane moves within 15 s"),
            new("cluster-heartbeat-pause", "A cluster member is unreachable after this long without a heartbeat.", null, FlagKind.Seconds,
                DefaultText: "3; 2 with several masters"),
            new("cluster-signing-duration", "The longest validity of certificates the client signers issue for CertificateSigningRequests (a Go duration).", "8760h0m0s",
                Check: v => { try { Store.StoreOptions.ParseEventTtl(v); return null; } catch (FormatException) { return "must be a positive Go duration such as 8760h or 24h0m0s"; } }),
            new("event-ttl", "How long Events are kept (a Go duration such as 1h0m0s or 30m).", "1h0m0s"),
            new("encryption-provider-config", "An EncryptionConfiguration file (apiserver.config.k8s.io/v1): which resources are encrypted at rest, and with which keys.",
                null, DefaultText: "objects are stored as plain JSON"),
            new(Api.Authorization.AuthorizationSettings.Flag, "The authorizers (comma-separated, in order) that decide each request, kube-apiserver's: Node (the node users' own objects), RBAC, AlwaysAllow (every request; a teaching or test cluster), AlwaysDeny (no opinion, so only what an earlier mode allows). The first that allows decides; system:masters may do anything. It holds for the request, the access reviews, impersonation and RBAC's escalate and bind checks. kube-apiserver's own default is AlwaysAllow; ours is Node,RBAC, what kubeadm and every real cluster use, because this master always serves on an address with authentication. ABAC and Webhook are not implemented.",
                Api.Authorization.AuthorizationSettings.DefaultModes, Check: Api.Authorization.AuthorizationSettings.ModesProblem),
            new(AdmissionPlugins.EnableFlag, "Admission plugins to turn on besides the default ones (comma-separated, kube-apiserver's names). The ones implemented here are on by default (NodeRestriction too, which kube-apiserver needs enabled); a plugin of kube's not implemented here (such as AlwaysPullImages) is refused.",
                null, DefaultText: "none besides the defaults", Check: AdmissionPlugins.EnableProblem),
            new(AdmissionPlugins.DisableFlag, "Admission plugins to turn off (comma-separated, kube-apiserver's names): LimitRanger, ServiceAccount, NodeRestriction, TaintNodesByCondition, PodSecurity, Priority, DefaultTolerationSeconds, PersistentVolumeClaimResize, ValidatingAdmissionPolicy, ResourceQuota. NamespaceLifecycle, DefaultStorageClass, StorageObjectInUseProtection, RuntimeClass, DefaultIngressClass, the Certificate* plugins and the admission webhooks are built in here and cannot be turned off.",
                null, DefaultText: "none", Check: AdmissionPlugins.DisableProblem),
            new(AdmissionConfigurationFile.Flag, "An AdmissionConfiguration file (apiserver.config.k8s.io/v1) with the PodSecurity plugin's PodSecurityConfiguration: the default levels of namespaces without labels, and the exempt usernames, runtimeClasses and namespaces.",
                null, DefaultText: "every namespace privileged unless labelled, no exemptions"),
            new("datastore-endpoint", "Keep the store's journal and snapshots in PostgreSQL: postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable (k3s' spelling; the database is created if missing).",
                null, DefaultText: "SQLite: {data-dir}/store.db"),
            new("store-recovery", "What to do with corrupt journal records found at start: none (refuse to start) or skip-corrupt (drop them, with a warning each).",
                "none", Check: v => v is "none" or "skip-corrupt" ? null : "must be none or skip-corrupt"),
            new("service-account-issuer", "The issuer (iss) of ServiceAccount tokens and of the OIDC discovery documents.",
                "https://kubernetes.default.svc.cluster.local"),
            new("service-account-signing-key-file", "A PEM private key (EC P-256 or RSA) that signs ServiceAccount tokens.", null,
                DefaultText: "{data-dir}/service-account.key, generated at first start"),
            new("api-audiences", "The audiences (comma-separated) a token must name to be accepted by the API.", null,
                DefaultText: "the service account issuer"),
            new("audit-policy-file", "An audit policy (audit.k8s.io/v1 Policy): which requests are logged, at which level. Needs --audit-log-path.",
                null, DefaultText: "no audit log"),
            new("audit-log-path", "Where audit events are written, one JSON line each (- for standard output). Needs --audit-policy-file.",
                null, DefaultText: "no audit log"),
            new("audit-log-maxsize", "Megabytes an audit log file may reach before it is rotated (0: never).", "0", Check: WholeNumberProblem),
            new("audit-log-maxbackup", "How many rotated audit log files are kept (0: all).", "0", Check: WholeNumberProblem),
            new("audit-log-maxage", "Days a rotated audit log file is kept (0: forever).", "0", Check: WholeNumberProblem),
            new("log-format", "How log lines are written: text (one line each) or json (one JSON object each).", "text", Check: LogFormatProblem),
        ]);

    private static string? ServiceCidrProblem(string value)
    {
        try
        {
            ClusterIpRange.Parse(value);
            return null;
        }
        catch (ArgumentException)
        {
            return "must be an IPv4 CIDR with a prefix length of 8 to 30";
        }
    }

    private static string? WholeNumberProblem(string value) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)
            ? null
            : "must be a whole number, 0 or more";

    private static string? LogFormatProblem(string value) => value is "text" or "json" ? null : "must be text or json";
}
