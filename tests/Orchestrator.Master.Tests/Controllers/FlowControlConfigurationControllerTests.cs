using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Orchestrator.Shared.Api;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class FlowControlConfigurationControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    [Fact]
    public void The_bootstrap_objects_are_created_and_every_schema_says_whether_its_level_exists()
    {
        Sys.ActorOf(FlowControlConfigurationController.Props(Store, Resync));
        Seed(new V1FlowSchema
        {
            ApiVersion = FlowControlDefaults.ApiVersion, Kind = "FlowSchema", Metadata = new V1ObjectMeta { Name = "orphan" },
            Spec = new V1FlowSchemaSpec
            {
                MatchingPrecedence = 500, PriorityLevelConfiguration = new V1PriorityLevelConfigurationReference { Name = "nowhere" },
                Rules = [new V1PolicyRulesWithSubjects
                {
                    Subjects = [new Flowcontrolv1Subject { Kind = "User", User = new V1UserSubject { Name = "x" } }],
                    NonResourceRules = [new V1NonResourcePolicyRule { Verbs = ["*"], NonResourceURLs = ["*"] }],
                }],
            },
        });
        AwaitAssert(() =>
        {
            Assert.Equal(14, All<V1FlowSchema>().Count);
            Assert.Equal(8, All<V1PriorityLevelConfiguration>().Count);
            var dangling = All<V1FlowSchema>().ToDictionary(f => f.Metadata.Name, f => f.Status?.Conditions?.SingleOrDefault(c => c.Type == "Dangling"));
            Assert.All(dangling, d => Assert.NotNull(d.Value));
            Assert.Equal(("True", "NotFound"), (dangling["orphan"]!.Status, dangling["orphan"]!.Reason));
            Assert.Equal(("False", "Found"), (dangling["global-default"]!.Status, dangling["global-default"]!.Reason));
        }, TimeSpan.FromSeconds(10));
        Assert.All(All<V1FlowSchema>().Where(f => f.Metadata.Name != "orphan"),
            f => Assert.Equal("true", f.Metadata.Annotations[FlowControlDefaults.AutoUpdateAnnotation]));
    }

    [Fact]
    public void A_deleted_mandatory_object_comes_back_and_an_unwanted_auto_updated_one_goes()
    {
        Sys.ActorOf(FlowControlConfigurationController.Props(Store, Resync));
        AwaitAssert(() => Assert.NotNull(Find<V1PriorityLevelConfiguration>(FlowControlDefaults.CatchAll)), TimeSpan.FromSeconds(10));
        var retired = KubeObjects.Clone(FlowControlDefaults.SuggestedPriorityLevels()[0]);
        retired.Metadata.Name = "retired-suggestion";
        Seed(retired);
        var uid = Find<V1PriorityLevelConfiguration>(FlowControlDefaults.CatchAll)!.Metadata.Uid;
        Write(new DeleteObject(new ResourceKey("prioritylevelconfigurations", null, FlowControlDefaults.CatchAll)));
        AwaitAssert(() =>
        {
            Assert.NotEqual(uid, Find<V1PriorityLevelConfiguration>(FlowControlDefaults.CatchAll)?.Metadata.Uid ?? uid);
            Assert.Null(Find<V1PriorityLevelConfiguration>("retired-suggestion"));
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_suggested_object_is_kept_up_to_date_only_while_its_annotation_says_so()
    {
        var bootstrap = FlowControlDefaults.SuggestedPriorityLevels().First(p => p.Metadata.Name == "workload-low");
        V1PriorityLevelConfiguration Changed(string? annotation, long generation)
        {
            var pl = KubeObjects.Clone(bootstrap);
            pl.Metadata.Generation = generation;
            pl.Metadata.Annotations = annotation is null ? null : new Dictionary<string, string> { [FlowControlDefaults.AutoUpdateAnnotation] = annotation };
            pl.Spec.Limited.NominalConcurrencyShares = 7;
            return pl;
        }
        static V1PriorityLevelConfiguration? Revise(V1PriorityLevelConfiguration current, V1PriorityLevelConfiguration wanted, bool mandatory) =>
            FlowControlConfigurationController.Revised(current, wanted, mandatory, p => p.Spec, (p, s) => p.Spec = s);

        Assert.Null(Revise(Changed("false", 2), bootstrap, mandatory: false));                     // the user's now
        Assert.Equal(100, Revise(Changed("true", 2), bootstrap, false)!.Spec.Limited.NominalConcurrencyShares);
        var unmarkedChanged = Revise(Changed(null, 2), bootstrap, false)!;                             // changed by its user: marked, kept
        Assert.Equal(("false", 7), (unmarkedChanged.Metadata.Annotations[FlowControlDefaults.AutoUpdateAnnotation], unmarkedChanged.Spec.Limited.NominalConcurrencyShares));
        Assert.Equal(("true", 100), Revise(Changed(null, 1), bootstrap, false) is { } r ? (r.Metadata.Annotations[FlowControlDefaults.AutoUpdateAnnotation], r.Spec.Limited.NominalConcurrencyShares ?? 0) : default);
        Assert.Equal(100, Revise(Changed("false", 2), bootstrap, mandatory: true)!.Spec.Limited.NominalConcurrencyShares); // mandatory: always
        Assert.Null(Revise(KubeObjects.Clone(bootstrap), bootstrap, false));
    }
}
