using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Nodes;

/// <summary>The taint eviction controller: NoExecute taints against the pods' tolerations, on an injected clock.</summary>
public sealed class TaintEvictionControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    // a resync this short is what looks at the pods again once the test has moved the clock
    private static readonly TimeSpan Resync = TimeSpan.FromMilliseconds(200);

    private TimeSpan _ahead;
    private DateTime Now() => DateTime.UtcNow + _ahead;

    private static V1Taint Taint(string key, string? value = null) => new() { Key = key, Value = value, Effect = "NoExecute" };

    private static V1Toleration Tolerate(string key, long? seconds = null) =>
        new() { Key = key, OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = seconds };

    private void SeedNode(string name, params V1Taint[] taints)
    {
        var node = Node(name);
        node.Spec.Taints = taints.ToList();
        Seed(node);
    }

    private void SeedPod(string name, string node, params V1Toleration[] tolerations)
    {
        var pod = Pod(name, App("web"), nodeName: node, phase: "Running", ready: true);
        pod.Spec.Tolerations = tolerations.ToList();
        Seed(pod);
    }

    private void SetTaints(string node, params V1Taint[] taints)
    {
        var updated = Find<V1Node>(node)!;
        updated.Spec.Taints = taints.ToList();
        Write(new UpdateObject("nodes", updated));
    }

    private bool Evicted(string pod) => Find<V1Pod>(pod) is not { Metadata.DeletionTimestamp: null };

    /// <summary>Waits a few resyncs, then asserts nothing was deleted.</summary>
    private void AssertNoDeletionFor(TimeSpan time) =>
        Assert.DoesNotContain(Writes.ReceiveWhile<object>(time, m => m), m => m is DeleteObject);

    [Fact]
    public void A_pod_that_does_not_tolerate_a_NoExecute_taint_is_evicted_at_once_and_a_tolerating_one_stays()
    {
        SeedNode("n1", Taint("dedicated", "gpu"));
        SeedPod("plain", "n1");
        SeedPod("tolerant", "n1", new V1Toleration { Key = "dedicated", OperatorProperty = "Equal", Value = "gpu", Effect = "NoExecute" });
        SeedPod("other-value", "n1", new V1Toleration { Key = "dedicated", OperatorProperty = "Equal", Value = "cpu", Effect = "NoExecute" });
        Sys.ActorOf(TaintEvictionController.Props(Store, Resync, Now));

        AwaitAssert(() => Assert.True(Evicted("plain") && Evicted("other-value")));
        var plain = Find<V1Pod>("plain")!;
        var condition = plain.Status.Conditions.Single(c => c.Type == "DisruptionTarget");
        Assert.Equal(("True", "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint"),
            (condition.Status, condition.Reason, condition.Message));
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e is
        {
            Reason: "TaintManagerEviction", Message: "Marking for deletion Pod default/plain", Type: "Normal",
            Source.Component: "taint-eviction-controller", InvolvedObject.Name: "plain",
        }));
        Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1), m => m); // a few resyncs more
        Assert.False(Evicted("tolerant"));
        Assert.DoesNotContain(Find<V1Pod>("tolerant")!.Status.Conditions, c => c.Type == "DisruptionTarget");
    }

    [Fact]
    public void A_tolerating_pod_is_evicted_when_its_smallest_matching_toleration_seconds_run_out()
    {
        SeedNode("n1", Taint("a"), Taint("b"));
        SeedNode("n2");
        SeedPod("web", "n1", Tolerate("a", 60), Tolerate("b", 120));
        SeedPod("elsewhere", "n2", Tolerate("a", 60));
        Sys.ActorOf(TaintEvictionController.Props(Store, Resync, Now));

        AssertNoDeletionFor(TimeSpan.FromSeconds(1));
        _ahead = TimeSpan.FromSeconds(50); // short of the 60 s by more than the test's own run time
        AssertNoDeletionFor(TimeSpan.FromSeconds(1));
        Assert.False(Evicted("web"));
        _ahead = TimeSpan.FromSeconds(61);
        AwaitAssert(() => Assert.True(Evicted("web")));
        Assert.False(Evicted("elsewhere"));
    }

    [Fact]
    public void A_pending_eviction_is_cancelled_when_the_taint_goes_and_counts_anew_when_it_comes_back()
    {
        SeedNode("n1", Taint("a"));
        SeedPod("web", "n1", Tolerate("a", 60));
        Sys.ActorOf(TaintEvictionController.Props(Store, Resync, Now));
        AssertNoDeletionFor(TimeSpan.FromSeconds(1)); // seen tainted: due 60 s on

        _ahead = TimeSpan.FromSeconds(30);
        SetTaints("n1");
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e is { Reason: "TaintManagerEviction", Message: "Cancelling deletion of Pod default/web" }));
        _ahead = TimeSpan.FromSeconds(61);
        AssertNoDeletionFor(TimeSpan.FromSeconds(1));

        SetTaints("n1", Taint("a")); // due 60 s from now: 121 s
        AssertNoDeletionFor(TimeSpan.FromSeconds(1));
        _ahead = TimeSpan.FromSeconds(110);
        AssertNoDeletionFor(TimeSpan.FromSeconds(1));
        Assert.False(Evicted("web"));
        _ahead = TimeSpan.FromSeconds(125);
        AwaitAssert(() => Assert.True(Evicted("web")));
    }

    [Fact]
    public void A_taint_that_becomes_tolerated_for_ever_cancels_the_eviction()
    {
        SeedNode("n1", Taint("a"));
        // the first matching toleration of each taint counts (kube's GetMatchingTolerations): "b" is tolerated for ever
        SeedPod("web", "n1", Tolerate("a", 60), Tolerate("b"), Tolerate("b", 10));
        Sys.ActorOf(TaintEvictionController.Props(Store, Resync, Now));
        AssertNoDeletionFor(TimeSpan.FromSeconds(1));

        SetTaints("n1", Taint("b"));
        _ahead = TimeSpan.FromSeconds(70);
        AssertNoDeletionFor(TimeSpan.FromSeconds(1.5));
        Assert.False(Evicted("web"));
    }

    [Fact]
    public void A_node_tainted_later_evicts_its_pods_then_and_unbound_pods_are_left_alone()
    {
        SeedNode("n1");
        SeedPod("web", "n1");
        Seed(Pod("pending", App("web")));
        Sys.ActorOf(TaintEvictionController.Props(Store, Resync, Now));
        AssertNoDeletionFor(TimeSpan.FromSeconds(1));

        SetTaints("n1", Taint("node.kubernetes.io/not-ready"));
        AwaitAssert(() => Assert.True(Evicted("web")));
        Assert.False(Evicted("pending"));
    }
}
