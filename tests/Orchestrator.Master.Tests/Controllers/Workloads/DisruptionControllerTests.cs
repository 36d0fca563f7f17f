using k8s.Models;
using Orchestrator.Master.Controllers;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers.Workloads;

public sealed class DisruptionControllerTests(ITestOutputHelper output) : WorkloadTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private static V1PodDisruptionBudget Budget(string name, IntOrString? minAvailable = null, IntOrString? maxUnavailable = null) => new()
    {
        ApiVersion = "policy/v1", Kind = "PodDisruptionBudget",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1PodDisruptionBudgetSpec
        {
            MinAvailable = minAvailable, MaxUnavailable = maxUnavailable, Selector = new V1LabelSelector { MatchLabels = App("web") },
        },
    };

    [Fact]
    public void The_budget_counts_ready_pods_against_min_available()
    {
        Seed(Pod("a", App("web"), "n1", "Running", ready: true));
        Seed(Pod("b", App("web"), "n1", "Running", ready: true));
        Seed(Pod("c", App("web"), "n1", "Running", ready: false));
        Seed(Budget("web", minAvailable: 1));
        Sys.ActorOf(DisruptionController.Props(Store, Resync));

        AwaitAssert(() =>
        {
            var status = Find<V1PodDisruptionBudget>("web")!.Status;
            Assert.Equal((2, 1, 3, 1), (status.CurrentHealthy, status.DesiredHealthy, status.ExpectedPods, status.DisruptionsAllowed));
            var condition = Assert.Single(status.Conditions);
            Assert.Equal(("DisruptionAllowed", "True", "SufficientPods"), (condition.Type, condition.Status, condition.Reason));
            Assert.Equal(1, status.ObservedGeneration);
        });
    }

    [Fact]
    public void A_percentage_takes_the_replicas_of_the_pods_controller_and_an_evicted_pod_is_not_healthy()
    {
        var rs = Seed(ReplicaSet("web-abc", 4));
        foreach (var name in new[] { "a", "b", "c" }) Seed(Pod(name, App("web"), "n1", "Running", ready: true, owner: ControllerRef(rs)));
        Seed(Budget("web", maxUnavailable: "50%"));
        Sys.ActorOf(DisruptionController.Props(Store, Resync));

        AwaitAssert(() =>
        {
            var status = Find<V1PodDisruptionBudget>("web")!.Status;
            Assert.Equal((3, 2, 4, 1), (status.CurrentHealthy, status.DesiredHealthy, status.ExpectedPods, status.DisruptionsAllowed));
        });

        // what the eviction API writes before deleting "a": the pod no longer counts while it is still there
        AwaitAssert(() =>
        {
            var evicting = Find<V1PodDisruptionBudget>("web")!;
            evicting.Status.DisruptionsAllowed = 0;
            evicting.Status.DisruptedPods = new Dictionary<string, DateTime?> { ["a"] = DateTime.UtcNow };
            Write(new Orchestrator.Master.Store.UpdateObject("poddisruptionbudgets", evicting, "status"));
        });
        AwaitAssert(() =>
        {
            var status = Find<V1PodDisruptionBudget>("web")!.Status;
            Assert.Equal((2, 0), (status.CurrentHealthy, status.DisruptionsAllowed));
            Assert.Equal("InsufficientPods", status.Conditions.Single().Reason);
        });
    }

    [Fact]
    public void Pods_without_a_controller_allow_no_disruption_when_a_percentage_needs_one()
    {
        Seed(Pod("a", App("web"), "n1", "Running", ready: true));
        Seed(Budget("web", minAvailable: "50%"));
        Sys.ActorOf(DisruptionController.Props(Store, Resync));
        AwaitAssert(() =>
        {
            var status = Find<V1PodDisruptionBudget>("web")!.Status;
            Assert.Equal(0, status.DisruptionsAllowed);
            var condition = status.Conditions.Single();
            Assert.Equal(("False", "SyncFailed", "found no controllers for pod \"a\""), (condition.Status, condition.Reason, condition.Message));
        });
    }
}
