using k8s.Models;

namespace Orchestrator.Master.Store;

/// <summary>
/// API Priority and Fairness' bootstrap configuration, as kube-apiserver 1.32 holds it
/// (k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap/default.go): the mandatory objects (exempt and catch-all, kept
/// as they are by the configuration controller) and the suggested ones (created when missing, kept up to date while
/// their <c>apf.kubernetes.io/autoupdate-spec</c> annotation says "true"). The request filter also falls back on the
/// mandatory objects when they are missing from the store, as kube's config controller does.
/// </summary>
internal static class FlowControlDefaults
{
    public const string AutoUpdateAnnotation = "apf.kubernetes.io/autoupdate-spec";
    public const string Exempt = "exempt";
    public const string CatchAll = "catch-all";
    public const string ApiVersion = "flowcontrol.apiserver.k8s.io/v1";

    private const string NodesGroup = "system:nodes";
    private const string KubeControllerManager = "system:kube-controller-manager";
    private const string KubeScheduler = "system:kube-scheduler";

    public static IReadOnlyList<V1PriorityLevelConfiguration> MandatoryPriorityLevels() =>
    [
        PriorityLevel(Exempt, new V1PriorityLevelConfigurationSpec
        {
            Type = "Exempt", Exempt = new V1ExemptPriorityLevelConfiguration { NominalConcurrencyShares = 0, LendablePercent = 0 },
        }),
        PriorityLevel(CatchAll, new V1PriorityLevelConfigurationSpec
        {
            Type = "Limited",
            Limited = new V1LimitedPriorityLevelConfiguration
            {
                NominalConcurrencyShares = 5, LendablePercent = 0, LimitResponse = new V1LimitResponse { Type = "Reject" },
            },
        }),
    ];

    public static IReadOnlyList<V1FlowSchema> MandatoryFlowSchemas() =>
    [
        Schema(Exempt, Exempt, 1, null, new V1PolicyRulesWithSubjects
        {
            Subjects = Groups("system:masters"), ResourceRules = [AllResources()], NonResourceRules = [AllNonResources()],
        }),
        Schema(CatchAll, CatchAll, 10000, "ByUser", new V1PolicyRulesWithSubjects
        {
            Subjects = Groups("system:unauthenticated", "system:authenticated"), ResourceRules = [AllResources()],
            NonResourceRules = [AllNonResources()],
        }),
    ];

    public static IReadOnlyList<V1PriorityLevelConfiguration> SuggestedPriorityLevels() =>
    [
        Queued("system", 30, 33, 64, 6, 50),
        Queued("node-high", 40, 25, 64, 6, 50),
        Queued("leader-election", 10, 0, 16, 4, 50),
        Queued("workload-high", 40, 50, 128, 6, 50),
        Queued("workload-low", 100, 90, 128, 6, 50),
        Queued("global-default", 20, 50, 128, 6, 50),
    ];

    public static IReadOnlyList<V1FlowSchema> SuggestedFlowSchemas()
    {
        V1ResourcePolicyRule LeaderElection(string namespaces) => Rule(["get", "create", "update"], [""], ["endpoints", "configmaps"], [namespaces], false);
        V1ResourcePolicyRule Leases() => Rule(["get", "create", "update"], ["coordination.k8s.io"], ["leases"], ["*"], false);
        V1PolicyRulesWithSubjects Everything(List<Flowcontrolv1Subject> subjects) =>
            new() { Subjects = subjects, ResourceRules = [AllResources()], NonResourceRules = [AllNonResources()] };
        return
        [
            Schema("system-nodes", "system", 500, "ByUser", Everything(Groups(NodesGroup))),
            Schema("system-node-high", "node-high", 400, "ByUser", new V1PolicyRulesWithSubjects
            {
                Subjects = Groups(NodesGroup),
                ResourceRules = [Rule(["*"], [""], ["nodes", "nodes/status"], ["*"], true), Rule(["*"], ["coordination.k8s.io"], ["leases"], ["*"], false)],
            }),
            Schema("probes", Exempt, 2, null, new V1PolicyRulesWithSubjects
            {
                Subjects = Groups("system:unauthenticated", "system:authenticated"),
                NonResourceRules = [new V1NonResourcePolicyRule { Verbs = ["get"], NonResourceURLs = ["/healthz", "/readyz", "/livez"] }],
            }),
            Schema("system-leader-election", "leader-election", 100, "ByUser", new V1PolicyRulesWithSubjects
            {
                Subjects = [.. Users(KubeControllerManager, KubeScheduler), .. KubeSystemServiceAccounts("*")],
                ResourceRules = [LeaderElection("kube-system"), Leases()],
            }),
            Schema("endpoint-controller", "workload-high", 150, "ByUser", new V1PolicyRulesWithSubjects
            {
                Subjects = [.. Users(KubeControllerManager), .. KubeSystemServiceAccounts("endpoint-controller", "endpointslicemirroring-controller")],
                ResourceRules = [Rule(["get", "create", "update"], [""], ["endpoints"], ["*"], false)],
            }),
            Schema("workload-leader-election", "leader-election", 200, "ByUser", new V1PolicyRulesWithSubjects
            {
                Subjects = KubeSystemServiceAccounts("*"), ResourceRules = [LeaderElection("*"), Leases()],
            }),
            Schema("kube-controller-manager", "workload-high", 800, "ByNamespace", Everything(Users(KubeControllerManager))),
            Schema("kube-scheduler", "workload-high", 800, "ByNamespace", Everything(Users(KubeScheduler))),
            Schema("kube-system-service-accounts", "workload-high", 900, "ByNamespace", Everything(KubeSystemServiceAccounts("*"))),
            Schema("service-accounts", "workload-low", 9000, "ByUser", Everything(Groups("system:serviceaccounts"))),
            Schema("global-default", "global-default", 9900, "ByUser", Everything(Groups("system:unauthenticated", "system:authenticated"))),
        ];
    }

    private static V1PriorityLevelConfiguration Queued(string name, int shares, int lendable, int queues, int handSize, int queueLength) =>
        PriorityLevel(name, new V1PriorityLevelConfigurationSpec
        {
            Type = "Limited",
            Limited = new V1LimitedPriorityLevelConfiguration
            {
                NominalConcurrencyShares = shares, LendablePercent = lendable,
                LimitResponse = new V1LimitResponse
                {
                    Type = "Queue", Queuing = new V1QueuingConfiguration { Queues = queues, HandSize = handSize, QueueLengthLimit = queueLength },
                },
            },
        });

    private static V1PriorityLevelConfiguration PriorityLevel(string name, V1PriorityLevelConfigurationSpec spec) => new()
    {
        ApiVersion = ApiVersion, Kind = "PriorityLevelConfiguration", Metadata = Meta(name), Spec = spec,
    };

    private static V1FlowSchema Schema(string name, string level, int precedence, string? distinguisher, V1PolicyRulesWithSubjects rules) => new()
    {
        ApiVersion = ApiVersion, Kind = "FlowSchema", Metadata = Meta(name),
        Spec = new V1FlowSchemaSpec
        {
            PriorityLevelConfiguration = new V1PriorityLevelConfigurationReference { Name = level }, MatchingPrecedence = precedence,
            DistinguisherMethod = distinguisher is null ? null : new V1FlowDistinguisherMethod { Type = distinguisher }, Rules = [rules],
        },
    };

    private static V1ObjectMeta Meta(string name) =>
        new() { Name = name, Annotations = new Dictionary<string, string> { [AutoUpdateAnnotation] = "true" } };

    private static V1ResourcePolicyRule AllResources() => Rule(["*"], ["*"], ["*"], ["*"], true);

    private static V1NonResourcePolicyRule AllNonResources() => new() { Verbs = ["*"], NonResourceURLs = ["*"] };

    private static V1ResourcePolicyRule Rule(List<string> verbs, List<string> groups, List<string> resources, List<string> namespaces, bool clusterScope) =>
        new() { Verbs = verbs, ApiGroups = groups, Resources = resources, Namespaces = namespaces, ClusterScope = clusterScope };

    private static List<Flowcontrolv1Subject> Groups(params string[] names) =>
        [.. names.Select(n => new Flowcontrolv1Subject { Kind = "Group", Group = new V1GroupSubject { Name = n } })];

    private static List<Flowcontrolv1Subject> Users(params string[] names) =>
        [.. names.Select(n => new Flowcontrolv1Subject { Kind = "User", User = new V1UserSubject { Name = n } })];

    private static List<Flowcontrolv1Subject> KubeSystemServiceAccounts(params string[] names) =>
        [.. names.Select(n => new Flowcontrolv1Subject
        {
            Kind = "ServiceAccount", ServiceAccount = new V1ServiceAccountSubject { Name = n, NamespaceProperty = "kube-system" },
        })];
}
