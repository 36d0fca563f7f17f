using Akka.Actor;
using Akka.TestKit;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Controllers.Deployments;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers;

/// <summary>Deployments on the whole control plane (real store, controllers, scheduler, gateway) with fake nodes
/// that make every pod Running and Ready as soon as they get it.</summary>
public sealed class RollingUpdateTests : ControllerTestKit
{
    private readonly ITestOutputHelper _output;

    public RollingUpdateTests(ITestOutputHelper output) : base(output) => _output = output;

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    private void StartCluster(params string[] nodes)
    {
        var gateway = ControlPlaneHosting.Start(Sys, Store, ControlPlaneOptions.Default, Catalog);
        foreach (var node in nodes) Sys.ActorOf(FakeNodeAgent.Props(gateway, node));
    }

    private V1Deployment RollingDeployment(string name, int replicas, string maxSurge, string maxUnavailable)
    {
        var d = Deployment(name, replicas, name);
        d.Spec.Strategy = new V1DeploymentStrategy
        {
            Type = "RollingUpdate",
            RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = maxSurge, MaxUnavailable = maxUnavailable },
        };
        return d;
    }

    private void AwaitRolledOut(string name, string image, int replicas) => AwaitAssert(() =>
    {
        var d = Find<V1Deployment>(name)!;
        Assert.True(DeploymentStatusCalculator.IsComplete(d, d.Status), "rollout not complete");
        var pods = All<V1Pod>().Where(p => p.Metadata.Labels?["app"] == name).ToList();
        Assert.Equal(replicas, pods.Count);
        Assert.All(pods, p => Assert.Equal(image, p.Spec.Containers[0].Image));
    }, Long);

    private static bool IsReady(V1Pod p) =>
        p.Metadata.DeletionTimestamp is null && p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>The pods as listed now, and a probe that receives every change to them from that version on.</summary>
    private (Dictionary<string, V1Pod> Pods, TestProbe Watcher) ListAndWatchPods()
    {
        var listed = (ObjectsListed)Store.Ask<object>(new ListObjects("pods", "default"), TimeSpan.FromSeconds(5)).Result;
        var watcher = CreateTestProbe();
        Store.Tell(new WatchObjects("pods", "default", listed.ResourceVersion, watcher), watcher);
        watcher.ExpectMsg<WatchStarted>();
        return (listed.Items.Cast<V1Pod>().ToDictionary(p => p.Metadata.Name), watcher);
    }

    private void SetImage(string name, string image)
    {
        var d = Find<V1Deployment>(name)!;
        d.Spec.Template.Spec.Containers[0].Image = image;
        WriteSpec(d);
    }

    /// <summary>Writes a deployment's spec as kubectl's patches do, without a resourceVersion precondition: the
    /// controller may have written its status since the read, and that must not fail the test's write.</summary>
    private void WriteSpec(V1Deployment d)
    {
        d.Metadata.ResourceVersion = null;
        Write(new UpdateObject("deployments", d));
    }

    [Theory]
    [InlineData(4, "1", "1")]
    [InlineData(3, "0", "1")]
    [InlineData(3, "1", "0")]
    [InlineData(5, "25%", "25%")]
    public void A_rolling_update_never_goes_below_replicas_minus_maxUnavailable_ready_nor_above_replicas_plus_maxSurge(
        int replicas, string maxSurge, string maxUnavailable)
    {
        StartCluster("node1", "node2");
        var d = Seed(RollingDeployment("web", replicas, maxSurge, maxUnavailable));
        AwaitRolledOut("web", "katacoda/docker-http-server:latest", replicas);
        var (surge, unavailable) = RolloutPlanner.Bounds(d);

        // Every change to the pods from here on, starting from the listed state.
        var (pods, watcher) = ListAndWatchPods();

        SetImage("web", "img:v2");

        var (most, fewestReady, samples) = (pods.Count, pods.Values.Count(IsReady), 0);
        var deadline = DateTime.UtcNow + Long;
        while (!(pods.Count == replicas && pods.Values.All(p => IsReady(p) && p.Spec.Containers[0].Image == "img:v2")))
        {
            Assert.True(DateTime.UtcNow < deadline, $"rollout did not finish: {pods.Count} pods");
            var change = watcher.ExpectMsg<ObjectChanged>(Long);
            var pod = (V1Pod)change.Object;
            if (change.Type == "DELETED") pods.Remove(pod.Metadata.Name);
            else pods[pod.Metadata.Name] = pod;
            samples++;
            most = Math.Max(most, pods.Count);
            fewestReady = Math.Min(fewestReady, pods.Values.Count(IsReady));
            Assert.True(pods.Count <= replicas + surge, $"{pods.Count} pods > {replicas} + maxSurge {surge} after {samples} changes");
            Assert.True(pods.Values.Count(IsReady) >= replicas - unavailable,
                $"{pods.Values.Count(IsReady)} ready < {replicas} - maxUnavailable {unavailable} after {samples} changes");
        }
        _output.WriteLine($"{samples} pod changes observed; at most {most} pods, at least {fewestReady} ready (bounds {replicas + surge}, {replicas - unavailable})");
        AwaitRolledOut("web", "img:v2", replicas);
    }

    [Fact]
    public void Rollback_like_kubectl_rollout_undo_restores_the_previous_template_and_reuses_its_replica_set()
    {
        StartCluster("node1");
        Seed(RollingDeployment("web", 2, "1", "0"));
        AwaitRolledOut("web", "katacoda/docker-http-server:latest", 2);
        SetImage("web", "img:v2");
        AwaitRolledOut("web", "img:v2", 2);
        Assert.Equal("2", Find<V1Deployment>("web")!.Metadata.Annotations[DeploymentController.RevisionAnnotation]);

        // kubectl 1.32 undoes client-side: the ReplicaSet of the previous revision's template, without its
        // pod-template-hash label, becomes the Deployment's template.
        var previous = All<V1ReplicaSet>().Single(rs => rs.Metadata.Annotations[DeploymentController.RevisionAnnotation] == "1");
        var d = Find<V1Deployment>("web")!;
        d.Spec.Template = previous.Spec.Template;
        d.Spec.Template.Metadata.Labels.Remove(PodTemplateHash.LabelKey);
        WriteSpec(d);

        AwaitRolledOut("web", "katacoda/docker-http-server:latest", 2);
        AwaitAssert(() =>
        {
            Assert.Equal("3", Find<V1Deployment>("web")!.Metadata.Annotations[DeploymentController.RevisionAnnotation]);
            var sets = All<V1ReplicaSet>();
            Assert.Equal(2, sets.Count); // the old ReplicaSet came back; no third one
            var restored = sets.Single(rs => rs.Metadata.Uid == previous.Metadata.Uid);
            Assert.Equal((2, "3"), (restored.Spec.Replicas ?? 0, restored.Metadata.Annotations[DeploymentController.RevisionAnnotation]));
            Assert.Equal(0, sets.Single(rs => rs.Metadata.Uid != previous.Metadata.Uid).Spec.Replicas);
        }, Long);
    }

    [Fact]
    public void Recreate_removes_every_old_pod_before_the_first_new_one()
    {
        StartCluster("node1");
        var d = Deployment("web", 3, "web");
        d.Spec.Strategy = new V1DeploymentStrategy { Type = "Recreate" };
        Seed(d);
        AwaitRolledOut("web", "katacoda/docker-http-server:latest", 3);
        var (pods, watcher) = ListAndWatchPods();

        SetImage("web", "img:v2");

        while (!(pods.Count == 3 && pods.Values.All(p => IsReady(p) && p.Spec.Containers[0].Image == "img:v2")))
        {
            var change = watcher.ExpectMsg<ObjectChanged>(Long);
            var pod = (V1Pod)change.Object;
            if (change.Type == "DELETED") pods.Remove(pod.Metadata.Name);
            else pods[pod.Metadata.Name] = pod;
            var images = pods.Values.Select(p => p.Spec.Containers[0].Image).Distinct().ToList();
            Assert.True(images.Count <= 1, $"old and new pods at once: {string.Join(", ", pods.Keys)}");
        }
    }

    [Fact]
    public void A_paused_deployment_does_not_roll_out_a_new_template_but_still_scales()
    {
        StartCluster("node1");
        Seed(RollingDeployment("web", 2, "1", "0"));
        AwaitRolledOut("web", "katacoda/docker-http-server:latest", 2);

        var d = Find<V1Deployment>("web")!;
        d.Spec.Paused = true;
        d.Spec.Replicas = 3;
        WriteSpec(d);
        AwaitAssert(() => Assert.Equal(3, All<V1Pod>().Count), Long);

        SetImage("web", "img:v2");
        Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1), m => m);
        Assert.Single(All<V1ReplicaSet>());
        Assert.All(All<V1Pod>(), p => Assert.Equal("katacoda/docker-http-server:latest", p.Spec.Containers[0].Image));

        d = Find<V1Deployment>("web")!;
        d.Spec.Paused = false;
        WriteSpec(d);
        AwaitRolledOut("web", "img:v2", 3);
    }
}
