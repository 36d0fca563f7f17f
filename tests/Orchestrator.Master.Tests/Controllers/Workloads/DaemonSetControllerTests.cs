using k8s.Models;
using Orchestrator.Master.Controllers;
using Akka.Actor;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers.Workloads;

public sealed class DaemonSetControllerTests(ITestOutputHelper output) : WorkloadTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private static V1DaemonSet DaemonSet(string name, string image = "agent:1", Action<V1DaemonSetSpec>? configure = null)
    {
        var ds = new V1DaemonSet
        {
            ApiVersion = "apps/v1", Kind = "DaemonSet",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
            Spec = new V1DaemonSetSpec
            {
                Selector = new V1LabelSelector { MatchLabels = App(name) },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = App(name) },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "agent", Image = image }] },
                },
            },
        };
        configure?.Invoke(ds.Spec);
        return ds;
    }

    private IReadOnlyList<V1Pod> PodsOf(V1DaemonSet ds) =>
        All<V1Pod>().Where(p => p.Metadata.OwnerReferences?.Any(o => o.Uid == ds.Metadata.Uid) == true && p.Metadata.DeletionTimestamp is null).ToList();

    /// <summary>Plays the kubelets: every pod that is not yet running turns Running and Ready.</summary>
    private void RunAll()
    {
        foreach (var pod in All<V1Pod>().Where(p => p.Status?.Phase != "Running"))
        {
            pod.Status = new V1PodStatus
            {
                Phase = "Running",
                Conditions = [new V1PodCondition { Type = "Ready", Status = "True", LastTransitionTime = DateTime.UtcNow }],
            };
            Write(new UpdateObject("pods", pod, "status"));
        }
    }

    [Fact]
    public void One_pod_runs_on_every_matching_node_that_it_tolerates_and_follows_nodes_added_and_removed()
    {
        Seed(Node("n1", labels: new Dictionary<string, string> { ["disk"] = "ssd" }));
        Seed(Node("n2", labels: new Dictionary<string, string> { ["disk"] = "ssd" }, unschedulable: true));
        Seed(Node("n3"));
        var tainted = Node("n4", labels: new Dictionary<string, string> { ["disk"] = "ssd" });
        tainted.Spec.Taints = [new V1Taint { Key = "dedicated", Value = "db", Effect = "NoSchedule" }];
        Seed(tainted);
        var ds = Seed(DaemonSet("agent", configure: s => s.Template.Spec.NodeSelector = new Dictionary<string, string> { ["disk"] = "ssd" }));
        Sys.ActorOf(DaemonSetController.Props(Store, Resync));

        AwaitAssert(() => Assert.Equal(["n1", "n2"], PodsOf(ds).Select(p => p.Spec.NodeName).Order()));
        var pod = PodsOf(ds)[0];
        Assert.Contains(pod.Spec.Tolerations, t => t.Key == "node.kubernetes.io/unschedulable" && t.Effect == "NoSchedule");
        Assert.Equal(pod.Spec.NodeName, pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0]);
        Assert.Equal("1", pod.Metadata.Labels["pod-template-generation"]);
        var revision = AwaitAssertReturn(() => Assert.Single(All<V1ControllerRevision>()));
        Assert.Equal(pod.Metadata.Labels["controller-revision-hash"], revision.Metadata.Labels["controller-revision-hash"]);
        Assert.Equal($"agent-{revision.Metadata.Labels["controller-revision-hash"]}", revision.Metadata.Name);
        Assert.Equal(1, revision.Revision);

        RunAll();
        AwaitAssert(() =>
        {
            var status = Find<V1DaemonSet>("agent")!.Status;
            Assert.Equal((2, 2, 2, 2, 2, 0), (status.DesiredNumberScheduled, status.CurrentNumberScheduled, status.NumberReady,
                status.NumberAvailable ?? 0, status.UpdatedNumberScheduled ?? 0, status.NumberMisscheduled));
        });

        Seed(Node("n5", labels: new Dictionary<string, string> { ["disk"] = "ssd" }));
        AwaitAssert(() => Assert.Contains(PodsOf(ds), p => p.Spec.NodeName == "n5"));
        Modify<V1Node>("n1", n => n.Metadata.Labels = new Dictionary<string, string> { ["disk"] = "hdd" });
        AwaitAssert(() => Assert.Equal(["n2", "n5"], PodsOf(ds).Select(p => p.Spec.NodeName).Order()));
    }

    [Fact]
    public void A_node_tainted_not_ready_NoSchedule_keeps_its_daemon_pod_and_one_tainted_NoExecute_loses_it()
    {
        Seed(Node("n1"));
        Seed(Node("n2"));
        var ds = Seed(DaemonSet("agent"));
        Sys.ActorOf(DaemonSetController.Props(Store, Resync));
        AwaitAssert(() => Assert.Equal(["n1", "n2"], PodsOf(ds).Select(p => p.Spec.NodeName).Order()));
        RunAll();

        // as the node lifecycle controller taints a NotReady node: no new daemon pod would go there, the running one stays
        Modify<V1Node>("n1", n => n.Spec.Taints = [new V1Taint { Key = "node.kubernetes.io/not-ready", Effect = "NoSchedule" },
            new V1Taint { Key = "node.kubernetes.io/not-ready", Effect = "NoExecute" }]);
        AwaitAssert(() => Assert.Equal(1, Find<V1DaemonSet>("agent")!.Status.NumberMisscheduled));
        Assert.Equal(["n1", "n2"], PodsOf(ds).Select(p => p.Spec.NodeName).Order());

        // a NoExecute taint the daemon pods do not tolerate: the pod goes
        Modify<V1Node>("n2", n => n.Spec.Taints = [new V1Taint { Key = "dedicated", Value = "db", Effect = "NoExecute" }]);
        AwaitAssert(() => Assert.Equal(["n1"], PodsOf(ds).Select(p => p.Spec.NodeName)));
    }

    [Fact]
    public void A_rolling_update_replaces_the_pods_within_max_unavailable_and_records_a_revision()
    {
        foreach (var n in new[] { "n1", "n2", "n3" }) Seed(Node(n));
        var ds = Seed(DaemonSet("agent"));
        Sys.ActorOf(DaemonSetController.Props(Store, Resync));
        AwaitAssert(() => Assert.Equal(3, PodsOf(ds).Count));
        RunAll();
        AwaitAssert(() => Assert.Equal(3, Find<V1DaemonSet>("agent")!.Status.NumberAvailable));
        var oldHash = PodsOf(ds)[0].Metadata.Labels["controller-revision-hash"];

        Modify<V1DaemonSet>("agent", d => d.Spec.Template.Spec.Containers[0].Image = "agent:2");

        // maxUnavailable 1: one old pod goes, and no other until its replacement is available.
        AwaitAssert(() => Assert.Equal(2, PodsOf(ds).Count(p => p.Metadata.Labels["controller-revision-hash"] == oldHash)));
        AwaitAssert(() => Assert.Equal(3, PodsOf(ds).Count));
        Assert.Equal(2, PodsOf(ds).Count(p => p.Metadata.Labels["controller-revision-hash"] == oldHash));
        AwaitAssert(() =>
        {
            RunAll();
            Assert.All(PodsOf(ds), p => Assert.Equal("agent:2", p.Spec.Containers[0].Image));
            Assert.Equal(3, PodsOf(ds).Count);
        });
        AwaitAssert(() => Assert.Equal(3, Find<V1DaemonSet>("agent")!.Status.UpdatedNumberScheduled));
        Assert.Equal([1L, 2L], All<V1ControllerRevision>().Select(r => r.Revision).Order());
    }

    [Fact]
    public void On_delete_only_pods_deleted_by_hand_get_the_new_template()
    {
        Seed(Node("n1"));
        Seed(Node("n2"));
        var ds = Seed(DaemonSet("agent", configure: s => s.UpdateStrategy = new V1DaemonSetUpdateStrategy { Type = "OnDelete" }));
        Sys.ActorOf(DaemonSetController.Props(Store, Resync));
        AwaitAssert(() => Assert.Equal(2, PodsOf(ds).Count));
        RunAll();

        Modify<V1DaemonSet>("agent", d => d.Spec.Template.Spec.Containers[0].Image = "agent:2");
        AwaitAssert(() => Assert.Equal(2, All<V1ControllerRevision>().Count));
        Assert.All(PodsOf(ds), p => Assert.Equal("agent:1", p.Spec.Containers[0].Image));

        var victim = PodsOf(ds).Single(p => p.Spec.NodeName == "n1");
        Write(new DeleteObject(new ResourceKey("pods", "default", victim.Metadata.Name)));
        AwaitAssert(() => Assert.Equal("agent:2", Assert.Single(PodsOf(ds), p => p.Spec.NodeName == "n1").Spec.Containers[0].Image));
        Assert.Equal("agent:1", Assert.Single(PodsOf(ds), p => p.Spec.NodeName == "n2").Spec.Containers[0].Image);
    }

    [Fact]
    public void Pods_are_created_in_slow_start_batches_that_stop_at_the_first_refusal()
    {
        for (var i = 1; i <= 7; i++) Seed(Node($"n{i}"));
        var ds = Seed(DaemonSet("agent"));
        var gate = Sys.ActorOf(PodCreateGate.Props(Store));
        Sys.ActorOf(DaemonSetController.Props(gate, Resync));
        int Held() => gate.Ask<int>(new PodCreateGate.CountHeld(), TimeSpan.FromSeconds(10)).Result;

        // Batches of 1, then 2: the next batch waits for every answer of the last.
        AwaitAssert(() => Assert.Equal(1, Held()));
        gate.Tell(new PodCreateGate.Answer(Accept: 1));
        AwaitAssert(() => Assert.Equal(2, Held()));

        // One refusal ends the run: the 4 pods not yet sent are not sent, and the next sync starts again from one.
        gate.Tell(new PodCreateGate.Answer(Accept: 1, Refuse: 1));
        AwaitAssert(() => Assert.Equal(1, Held()));
        Assert.Equal(2, PodsOf(ds).Count);
        gate.Tell(new PodCreateGate.Answer(Accept: 1));
        AwaitAssert(() => Assert.Equal(2, Held()));
        gate.Tell(new PodCreateGate.Answer(Accept: 2));
        AwaitAssert(() => Assert.Equal(2, Held())); // 4 would be more than the 2 still missing
        gate.Tell(new PodCreateGate.Answer(Accept: 2));

        // Every node has its pod, none has two: the expectations held while the batches were out.
        AwaitAssert(() => Assert.Equal(Enumerable.Range(1, 7).Select(i => $"n{i}").Order(), PodsOf(ds).Select(p => p.Spec.NodeName).Order()));
        Assert.Equal(0, Held());
        var refused = AwaitAssertReturn(() => Assert.Single(All<Corev1Event>(), e => e.Reason == "FailedCreate"));
        Assert.Equal(("Warning", "Error creating: Too many requests, please try again later."), (refused.Type, refused.Message));
        AwaitAssert(() => Assert.Equal(7, All<Corev1Event>().Count(e => e.Reason == "SuccessfulCreate")));
    }
}
