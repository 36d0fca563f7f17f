using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Kinds.FlowControl;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public class FlowControlStrategyTests
{
    private static readonly DateTime Now = new(2025, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    private static V1FlowSchema Schema(string name, int? precedence, params V1PolicyRulesWithSubjects[] rules) => new()
    {
        ApiVersion = FlowControlDefaults.ApiVersion, Kind = "FlowSchema", Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1FlowSchemaSpec
        {
            MatchingPrecedence = precedence, PriorityLevelConfiguration = new V1PriorityLevelConfigurationReference { Name = "workload-low" },
            Rules = [.. rules],
        },
    };

    private static V1PolicyRulesWithSubjects GroupRule(string group, V1ResourcePolicyRule? rule = null, V1NonResourcePolicyRule? nonResource = null) => new()
    {
        Subjects = [new Flowcontrolv1Subject { Kind = "Group", Group = new V1GroupSubject { Name = group } }],
        ResourceRules = rule is null ? null : [rule], NonResourceRules = nonResource is null ? null : [nonResource],
    };

    private static V1PriorityLevelConfiguration Level(string name, V1LimitedPriorityLevelConfiguration limited) => new()
    {
        ApiVersion = FlowControlDefaults.ApiVersion, Kind = "PriorityLevelConfiguration", Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PriorityLevelConfigurationSpec { Type = "Limited", Limited = limited },
    };

    private static List<string> Causes(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old = null) =>
        Strategies.Admit(obj is V1FlowSchema ? FlowControlResources.FlowSchemas : FlowControlResources.PriorityLevelConfigurations, obj, old)
            .Select(c => $"{c.Field}: {c.Message}").ToList();

    [Fact]
    public void The_bootstrap_objects_are_accepted_as_they_are_and_defaulting_leaves_them_unchanged()
    {
        IEnumerable<IKubernetesObject<V1ObjectMeta>> all =
        [
            .. FlowControlDefaults.MandatoryPriorityLevels(), .. FlowControlDefaults.SuggestedPriorityLevels(),
            .. FlowControlDefaults.MandatoryFlowSchemas(), .. FlowControlDefaults.SuggestedFlowSchemas(),
        ];
        foreach (var obj in all)
        {
            var copy = KubeObjects.CloneObject(obj);
            Assert.True(Causes(copy).Count == 0, $"{obj.Metadata.Name}: {string.Join("; ", Causes(KubeObjects.CloneObject(obj)))}");
            Assert.True(KubeObjects.SameJson(((dynamic)copy).Spec, ((dynamic)obj).Spec), $"{obj.Metadata.Name} was changed by defaulting");
        }
        Assert.Equal(13, FlowControlDefaults.MandatoryFlowSchemas().Count + FlowControlDefaults.SuggestedFlowSchemas().Count);
        Assert.Equal(8, FlowControlDefaults.MandatoryPriorityLevels().Count + FlowControlDefaults.SuggestedPriorityLevels().Count);
    }

    [Fact]
    public void A_flow_schema_gets_precedence_1000_and_an_empty_status()
    {
        var fs = Schema("mine", null, GroupRule("g", nonResource: new V1NonResourcePolicyRule { Verbs = ["get"], NonResourceURLs = ["/metrics"] }));
        fs.Status = new V1FlowSchemaStatus { Conditions = [new V1FlowSchemaCondition { Type = "Dangling", Status = "False" }] };
        Assert.Empty(Causes(fs));
        Assert.Equal(1000, fs.Spec.MatchingPrecedence);
        Assert.Empty(fs.Status.Conditions ?? []);
    }

    [Fact]
    public void Only_exempt_may_have_precedence_1_and_precedence_is_bounded()
    {
        var rule = GroupRule("g", nonResource: new V1NonResourcePolicyRule { Verbs = ["*"], NonResourceURLs = ["*"] });
        Assert.Contains("spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may have matchingPrecedence 1", Causes(Schema("mine", 1, rule)));
        Assert.Contains("spec.matchingPrecedence: Invalid value: 10001: must not be greater than 10000", Causes(Schema("mine", 10001, rule)));
        Assert.Contains("spec.matchingPrecedence: Invalid value: -3: must be a positive value", Causes(Schema("mine", -3, rule)));
    }

    [Fact]
    public void Rules_need_subjects_and_well_formed_resource_and_non_resource_rules()
    {
        var fs = Schema("mine", 500,
            new V1PolicyRulesWithSubjects { ResourceRules = [] },
            GroupRule("g", new V1ResourcePolicyRule { Verbs = ["get", "*"], ApiGroups = ["*", "apps"], Resources = ["pods"], Namespaces = ["Bad_NS"] }),
            GroupRule("g", nonResource: new V1NonResourcePolicyRule { Verbs = ["fly"], NonResourceURLs = ["healthz", "/a/*/b", "/x/"] }));
        fs.Spec.DistinguisherMethod = new V1FlowDistinguisherMethod { Type = "ByColour" };
        var causes = Causes(fs);
        Assert.Contains("spec.rules[0].subjects: Required value: subjects must contain at least one value", causes);
        Assert.Contains("spec.rules[0]: Required value: at least one of resourceRules and nonResourceRules has to be non-empty", causes);
        Assert.Contains("spec.rules[1].resourceRules[0].verbs: Invalid value: []string{\"get\", \"*\"}: if '*' is present, must not specify other verbs", causes);
        Assert.Contains("spec.rules[1].resourceRules[0].apiGroups: Invalid value: []string{\"*\", \"apps\"}: if '*' is present, must not specify other api groups", causes);
        Assert.Contains(causes, c => c.StartsWith("spec.rules[1].resourceRules[0].namespaces[0]: Invalid value: \"Bad_NS\": each member of this list must be '*' or a DNS-1123 label; "));
        Assert.Contains(causes, c => c.StartsWith("spec.rules[2].nonResourceRules[0].verbs: Unsupported value: []string{\"fly\"}"));
        Assert.Contains("spec.rules[2].nonResourceRules[0].nonResourceURLs[0]: Invalid value: \"healthz\": must start with slash", causes);
        Assert.Contains("spec.rules[2].nonResourceRules[0].nonResourceURLs[1]: Invalid value: \"/a/*/b\": wildcard can only do suffix glob matching", causes);
        Assert.Contains("spec.rules[2].nonResourceRules[0].nonResourceURLs[2]: Invalid value: \"/x/\": must not end with slash", causes);
        Assert.Contains("spec.distinguisherMethod.type: Unsupported value: \"ByColour\": supported values: \"ByNamespace\", \"ByUser\"", causes);
    }

    [Fact]
    public void Subjects_carry_exactly_the_member_their_kind_names()
    {
        var fs = Schema("mine", 500, new V1PolicyRulesWithSubjects
        {
            Subjects =
            [
                new Flowcontrolv1Subject { Kind = "ServiceAccount", ServiceAccount = new V1ServiceAccountSubject { Name = "*" }, User = new V1UserSubject { Name = "u" } },
                new Flowcontrolv1Subject { Kind = "User" },
                new Flowcontrolv1Subject { Kind = "Robot" },
            ],
            NonResourceRules = [new V1NonResourcePolicyRule { Verbs = ["*"], NonResourceURLs = ["*"] }],
        });
        var causes = Causes(fs);
        Assert.Contains("spec.rules[0].subjects[0].serviceAccount.namespace: Required value: must specify namespace for service account", causes);
        Assert.Contains("spec.rules[0].subjects[0].user: Forbidden: user is forbidden when subject kind is not 'User'", causes);
        Assert.Contains("spec.rules[0].subjects[1].user: Required value: user is required when subject kind is 'User'", causes);
        Assert.Contains("spec.rules[0].subjects[2].kind: Unsupported value: \"Robot\": supported values: \"Group\", \"ServiceAccount\", \"User\"", causes);
    }

    [Fact]
    public void The_mandatory_objects_keep_their_fixed_spec()
    {
        var catchAll = KubeObjects.Clone(FlowControlDefaults.MandatoryPriorityLevels()[1]);
        catchAll.Spec.Limited.NominalConcurrencyShares = 50;
        Assert.Contains(Causes(catchAll), c => c.StartsWith("spec: Invalid value: ") && c.EndsWith("spec of 'catch-all' must equal the fixed value"));
        var exemptSchema = KubeObjects.Clone(FlowControlDefaults.MandatoryFlowSchemas()[0]);
        exemptSchema.Spec.MatchingPrecedence = 2;
        Assert.Contains(Causes(exemptSchema), c => c.EndsWith("spec of 'exempt' must equal the fixed value"));
    }

    [Fact]
    public void A_limited_level_is_defaulted_as_v1_defaults_it()
    {
        var pl = Level("mine", new V1LimitedPriorityLevelConfiguration
        {
            LimitResponse = new V1LimitResponse { Type = "Queue", Queuing = new V1QueuingConfiguration() },
        });
        Assert.Empty(Causes(pl));
        Assert.Equal((30, 0), (pl.Spec.Limited.NominalConcurrencyShares, pl.Spec.Limited.LendablePercent));
        Assert.Equal((64, 8, 50), (pl.Spec.Limited.LimitResponse.Queuing.Queues, pl.Spec.Limited.LimitResponse.Queuing.HandSize,
            pl.Spec.Limited.LimitResponse.Queuing.QueueLengthLimit));
        Assert.Null(pl.Spec.Limited.BorrowingLimitPercent);
    }

    [Fact]
    public void Level_types_limit_responses_and_queuing_are_checked()
    {
        Assert.Contains("spec.type: Invalid value: \"Exempt\": type must be 'Exempt' if and only if name is 'exempt'",
            Causes(new V1PriorityLevelConfiguration { Metadata = new V1ObjectMeta { Name = "mine" }, Spec = new V1PriorityLevelConfigurationSpec { Type = "Exempt" } }));
        var causes = Causes(Level("mine", new V1LimitedPriorityLevelConfiguration
        {
            NominalConcurrencyShares = -1, LendablePercent = 101, BorrowingLimitPercent = -5,
            LimitResponse = new V1LimitResponse { Type = "Queue", Queuing = new V1QueuingConfiguration { Queues = 4, HandSize = 5, QueueLengthLimit = -1 } },
        }));
        Assert.Contains("spec.limited.nominalConcurrencyShares: Invalid value: -1: must be a non-negative integer", causes);
        Assert.Contains("spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive", causes);
        Assert.Contains("spec.limited.borrowingLimitPercent: Invalid value: -5: if specified, must be a non-negative integer", causes);
        Assert.Contains("spec.limited.limitResponse.queuing.handSize: Invalid value: 5: should not be greater than queues (4)", causes);
        Assert.Contains("spec.limited.limitResponse.queuing.queueLengthLimit: Invalid value: -1: must be positive", causes);
        Assert.Contains("spec.limited.limitResponse.queuing.handSize: Invalid value: 40: required entropy bits of deckSize 1024 and handSize 40 should not be greater than 60",
            Causes(Level("mine", new V1LimitedPriorityLevelConfiguration
            {
                LimitResponse = new V1LimitResponse { Type = "Queue", Queuing = new V1QueuingConfiguration { Queues = 1024, HandSize = 40 } },
            })));
        Assert.Contains("spec.limited.limitResponse.queuing: Forbidden: must be nil if limited.limitResponse.type is not Limited",
            Causes(Level("mine", new V1LimitedPriorityLevelConfiguration
            {
                LimitResponse = new V1LimitResponse { Type = "Reject", Queuing = new V1QueuingConfiguration { Queues = 1 } },
            })));
        Assert.Contains("spec.limited.limitResponse.type: Unsupported value: \"Drop\": supported values: \"Queue\", \"Reject\"",
            Causes(Level("mine", new V1LimitedPriorityLevelConfiguration { LimitResponse = new V1LimitResponse { Type = "Drop" } })));
    }

    [Fact]
    public void Rows_match_kubectl_get_flowschemas_and_prioritylevelconfigurations()
    {
        var fs = KubeObjects.Clone(FlowControlDefaults.SuggestedFlowSchemas().First(s => s.Metadata.Name == "service-accounts"));
        fs.Metadata.CreationTimestamp = Now.AddSeconds(-30);
        Assert.Equal(["service-accounts", "workload-low", 9000L, "ByUser", "30s", "?"], FlowControlResources.FlowSchemas.Printer.Cells(fs, Now));
        fs.Status = new V1FlowSchemaStatus { Conditions = [new V1FlowSchemaCondition { Type = "Dangling", Status = "False" }] };
        Assert.Equal("False", FlowControlResources.FlowSchemas.Printer.Cells(fs, Now)[5]);
        var exemptFs = KubeObjects.Clone(FlowControlDefaults.MandatoryFlowSchemas()[0]);
        exemptFs.Metadata.CreationTimestamp = Now;
        Assert.Equal("<none>", FlowControlResources.FlowSchemas.Printer.Cells(exemptFs, Now)[3]);

        var workloadLow = KubeObjects.Clone(FlowControlDefaults.SuggestedPriorityLevels().First(p => p.Metadata.Name == "workload-low"));
        workloadLow.Metadata.CreationTimestamp = Now.AddSeconds(-30);
        Assert.Equal(["workload-low", "Limited", 100L, 128L, 6L, 50L, "30s"], FlowControlResources.PriorityLevelConfigurations.Printer.Cells(workloadLow, Now));
        var exempt = KubeObjects.Clone(FlowControlDefaults.MandatoryPriorityLevels()[0]);
        exempt.Metadata.CreationTimestamp = Now.AddSeconds(-30);
        Assert.Equal(["exempt", "Exempt", "<none>", "<none>", "<none>", "<none>", "30s"], FlowControlResources.PriorityLevelConfigurations.Printer.Cells(exempt, Now));
    }
}
