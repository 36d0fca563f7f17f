using k8s.Models;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Scheduling.Framework;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Scheduling;

/// <summary>Kubernetes' DefaultPreemption: the fewest, least important victims on one node; budgets as a preference.</summary>
public sealed class PreemptionTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static V1Node Sized(string name, string cpu)
    {
        var node = Node(name);
        node.Status.Allocatable = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new("4Gi") };
        return node;
    }

    private static V1Pod Requesting(string name, string cpu, int priority, string? nodeName = null, string app = "web")
    {
        var pod = Pod(name, App(app), nodeName: nodeName, phase: nodeName is null ? null : "Running");
        pod.Metadata.Uid = Guid.NewGuid().ToString();
        pod.Spec.Priority = priority;
        pod.Spec.Containers[0].Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu) } };
        return pod;
    }

    private static readonly DefaultPreemption Preemption = new(SchedulingAlgorithm.Default);

    [Fact]
    public void The_node_whose_victims_matter_least_is_chosen_and_only_as_many_as_needed_go()
    {
        var nodes = new[]
        {
            new NodeInfo(Sized("a", "2"), [Requesting("a1", "1", 50, "a"), Requesting("a2", "1", 50, "a")]),
            new NodeInfo(Sized("b", "2"), [Requesting("b1", "1", 10, "b"), Requesting("b2", "1", 20, "b")]),
        };
        var result = Preemption.Preempt(Requesting("vip", "1", 100), nodes, []);
        Assert.Equal("b", result.NodeName);
        Assert.Equal(["b1"], result.Victims.Select(v => v.Metadata.Name));
    }

    [Fact]
    public void Pods_of_equal_or_higher_priority_are_never_victims()
    {
        var nodes = new[] { new NodeInfo(Sized("a", "1"), [Requesting("peer", "1", 100, "a")]) };
        var result = Preemption.Preempt(Requesting("vip", "1", 100), nodes, []);
        Assert.Null(result.NodeName);
        Assert.Equal("0/1 nodes are available: 1 No preemption victims found for incoming pod.", result.FailureMessage);
    }

    [Fact]
    public void Preemption_policy_never_does_not_preempt()
    {
        var nodes = new[] { new NodeInfo(Sized("a", "1"), [Requesting("low", "1", 0, "a")]) };
        var pod = Requesting("vip", "1", 100);
        pod.Spec.PreemptionPolicy = "Never";
        Assert.Equal("not eligible due to preemptionPolicy=Never.", Preemption.Preempt(pod, nodes, []).FailureMessage);
    }

    [Fact]
    public void A_node_whose_victims_a_budget_protects_is_avoided_when_another_will_do()
    {
        var nodes = new[]
        {
            new NodeInfo(Sized("a", "1"), [Requesting("db", "1", 0, "a", app: "db")]),
            new NodeInfo(Sized("b", "1"), [Requesting("batch", "1", 5, "b", app: "batch")]),
        };
        var budget = new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = "db", NamespaceProperty = "default" },
            Spec = new V1PodDisruptionBudgetSpec { Selector = new V1LabelSelector { MatchLabels = App("db") } },
            Status = new V1PodDisruptionBudgetStatus { DisruptionsAllowed = 0 },
        };
        Assert.Equal("a", Preemption.Preempt(Requesting("vip", "1", 100), nodes, []).NodeName);
        Assert.Equal("b", Preemption.Preempt(Requesting("vip", "1", 100), nodes, [budget]).NodeName);
        Assert.Equal("a", Preemption.Preempt(Requesting("vip", "1", 100), [nodes[0]], [budget]).NodeName); // a preference only
    }

    [Fact]
    public void A_node_preemption_cannot_help_is_named_so()
    {
        var cordoned = new NodeInfo(Node("c", unschedulable: true), [Requesting("low", "1", 0, "c")]);
        Assert.Equal("0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
            Preemption.Preempt(Requesting("vip", "1", 100), [cordoned], []).FailureMessage);
    }

    [Fact]
    public void The_scheduler_nominates_the_node_marks_and_deletes_the_victim_and_records_preempted()
    {
        Seed(Sized("a", "1"));
        Seed(Requesting("low", "1", 0, "a"));
        Seed(Requesting("vip", "1", 1000));
        Sys.ActorOf(Scheduler.Props(Store, TimeSpan.FromMinutes(5)));

        AwaitAssert(() => Assert.Equal("a", Find<V1Pod>("vip")!.Status?.NominatedNodeName));
        AwaitAssert(() =>
        {
            var victim = Find<V1Pod>("low");
            Assert.True(victim is null || victim.Metadata.DeletionTimestamp is not null);
        });
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "Preempted" && e.InvolvedObject.Name == "low"
            && e.Message == $"Preempted by pod {Find<V1Pod>("vip")!.Metadata.Uid} on node a"));
        Assert.Equal("PreemptionByScheduler", Find<V1Pod>("low")?.Status.Conditions?.SingleOrDefault(c => c.Type == "DisruptionTarget")?.Reason
                                               ?? "PreemptionByScheduler");
        Write(new DeleteObject(new ResourceKey("pods", "default", "low"))); // the kubelet's final delete
        AwaitAssert(() => Assert.Equal("a", Find<V1Pod>("vip")!.Spec.NodeName));
    }

    [Fact]
    public void A_pod_no_node_can_make_room_for_loses_its_nomination_but_one_not_eligible_keeps_it()
    {
        var nodes = new[] { new NodeInfo(Sized("a", "1"), [Requesting("peer", "1", 100, "a")]) };
        Assert.True(Preemption.Preempt(Requesting("vip", "1", 100), nodes, []).ClearsNomination);
        var never = Requesting("vip", "1", 100);
        never.Spec.PreemptionPolicy = "Never";
        Assert.False(Preemption.Preempt(never, nodes, []).ClearsNomination);
    }

    [Fact]
    public void The_scheduler_clears_a_nomination_once_preemption_finds_no_candidate()
    {
        Seed(Sized("a", "1"));
        Seed(Requesting("peer", "1", 1000, "a")); // took the room the nomination was for, and outranks the nominee
        var vip = Requesting("vip", "1", 100);
        vip.Status = new V1PodStatus { Phase = "Pending", NominatedNodeName = "a" };
        Assert.Equal("a", Seed(vip).Status.NominatedNodeName);
        Sys.ActorOf(Scheduler.Props(Store, TimeSpan.FromMinutes(5)));

        AwaitAssert(() =>
        {
            var pod = Find<V1Pod>("vip")!;
            Assert.Equal("Unschedulable", pod.Status.Conditions?.SingleOrDefault(c => c.Type == "PodScheduled")?.Reason);
            Assert.Null(pod.Status.NominatedNodeName);
        });
        Assert.Null(Find<V1Pod>("vip")!.Spec.NodeName);
    }
}
