using System.Text;
using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Config;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

public sealed class PodSupervisorImageTests : TestKit
{
    private readonly FakeRuntime _runtime = new();

    private static readonly PodSupervisorSettings Fast = new("node-a", "127.0.0.1",
        SyncInterval: TimeSpan.FromMilliseconds(50), InitialBackOff: TimeSpan.FromSeconds(2), MaxBackOff: TimeSpan.FromSeconds(6));

    private static V1Pod Pod(string image, string? policy = null)
    {
        var pod = TestPods.Pod("web-1", image: image);
        pod.Spec.Containers[0].ImagePullPolicy = policy;
        return pod;
    }

    [Fact]
    public void A_present_image_with_IfNotPresent_is_used_without_a_pull()
    {
        _runtime.WithImage("web:1");
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(Pod("web:1", "IfNotPresent"), _runtime, Fast));

        var pulled = parent.Expect<NodeEventReported>(e => e.Event.Reason == "Pulled");
        Assert.Equal("Container image \"web:1\" already present on machine", pulled.Event.Message);
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.Equal(0, _runtime.PullCount);
    }

    [Fact]
    public void A_latest_image_is_pulled_and_its_status_names_the_registry_digest()
    {
        _runtime.WithImage("127.0.0.1:5000/app:latest").InRegistry("127.0.0.1:5000/app:latest");
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(Pod("127.0.0.1:5000/app"), _runtime, Fast));

        var reasons = new List<string>();
        var pulled = parent.Expect<NodeEventReported>(e => { reasons.Add(e.Event.Reason); return e.Event.Reason == "Pulled"; });
        Assert.Equal(["Pulling", "Pulled"], reasons);
        Assert.Matches(@"^Successfully pulled image ""127\.0\.0\.1:5000/app"" in \d+(\.\d+)?m?s \(\d+(\.\d+)?m?s including waiting\)\. Image size: 1234 bytes\.$",
            pulled.Event.Message);
        var running = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.StartsWith("docker-pullable://127.0.0.1:5000/app@sha256:", running.Status.ContainerStatuses[0].ImageID);
        Assert.Equal(1, _runtime.PullCount);
    }

    [Fact]
    public void Never_with_a_missing_image_waits_as_ErrImageNeverPull_without_pulling()
    {
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(Pod("web:1", "Never"), _runtime, Fast));

        var warning = parent.Expect<NodeEventReported>(e => e.Event.Reason == "ErrImageNeverPull");
        Assert.Equal("Container image \"web:1\" is not present with pull policy of Never", warning.Event.Message);
        parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].State.Waiting?.Reason == "ErrImageNeverPull");
        Assert.Equal(0, _runtime.PullCount);
    }

    [Fact]
    public void A_failed_pull_is_ErrImagePull_then_ImagePullBackOff_and_the_pull_is_tried_again_after_the_back_off()
    {
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(Pod("127.0.0.1:5000/app:v1"), _runtime, Fast));

        var failed = parent.Expect<NodeEventReported>(e => e.Event.Reason == "Failed");
        Assert.StartsWith("Failed to pull image \"127.0.0.1:5000/app:v1\": Error response from daemon: pull access denied", failed.Event.Message);
        parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].State.Waiting?.Reason == "ErrImagePull");
        var backOff = parent.Expect<NodeEventReported>(e => e.Event.Reason == "BackOff");
        Assert.Equal("Back-off pulling image \"127.0.0.1:5000/app:v1\"", backOff.Event.Message);
        var waiting = parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].State.Waiting?.Reason == "ImagePullBackOff");
        Assert.Equal("Back-off pulling image \"127.0.0.1:5000/app:v1\"", waiting.Status.ContainerStatuses[0].State.Waiting.Message);
        Assert.Equal(1, _runtime.PullCount);

        _runtime.InRegistry("127.0.0.1:5000/app:v1");
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running", TimeSpan.FromSeconds(15));
        Assert.Equal(2, _runtime.PullCount);
    }

    [Fact]
    public void A_pull_tried_again_after_its_back_off_keeps_ImagePullBackOff_while_it_runs()
    {
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(Pod("127.0.0.1:5000/app:v1"), _runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].State.Waiting?.Reason == "ImagePullBackOff");

        _runtime.PullGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        parent.Expect<NodeEventReported>(e => e.Event.Reason == "Pulling", TimeSpan.FromSeconds(10));
        // the sync loop (50 ms) reports while the pull hangs: the reason must not fall back to ContainerCreating
        var until = DateTime.UtcNow + TimeSpan.FromMilliseconds(500);
        while (DateTime.UtcNow < until)
            if (parent.ReceiveOne(until - DateTime.UtcNow) is PodStatusReported r)
                Assert.Equal("ImagePullBackOff", r.Status.ContainerStatuses[0].State.Waiting?.Reason);
        Assert.Equal(2, _runtime.PullCount);
        _runtime.InRegistry("127.0.0.1:5000/app:v1");
        _runtime.PullGate.SetResult();
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_locally_built_image_whose_pull_fails_is_used_with_a_warning()
    {
        _runtime.WithImage("orchestrator/http-server:latest");
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(Pod("orchestrator/http-server:latest"), _runtime, Fast));

        var warning = parent.Expect<NodeEventReported>(e => e.Event.Type == "Warning");
        Assert.Contains("using the image present on machine, which was built or loaded on this node", warning.Event.Message);
        var running = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.StartsWith("docker://sha256:", running.Status.ContainerStatuses[0].ImageID);
    }

    [Fact]
    public void A_local_image_pushed_to_another_registry_still_falls_back_but_one_pulled_under_its_name_does_not()
    {
        // pushing the demo busybox to a local registry gives it a digest of that registry only: it still did not come
        // from Docker Hub, so its failed pull falls back to it as before the push
        _runtime.WithImage("busybox:latest", "127.0.0.1:5000/library/busybox@sha256:" + new string('a', 64));
        var pushed = CreateTestProbe();
        pushed.ChildActorOf(PodSupervisor.Props(Pod("busybox"), _runtime, Fast));
        var warning = pushed.Expect<NodeEventReported>(e => e.Event.Type == "Warning");
        Assert.Contains("using the image present on machine, which was built or loaded on this node", warning.Event.Message);
        pushed.Expect<PodStatusReported>(r => r.Status.Phase == "Running");

        // an image that came from its own repository keeps Kubernetes' semantics: the failed pull is ErrImagePull
        _runtime.WithImage("redis:latest", "redis@sha256:" + new string('b', 64));
        var pulled = CreateTestProbe();
        pulled.ChildActorOf(PodSupervisor.Props(Pod("redis"), _runtime, Fast));
        pulled.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].State.Waiting?.Reason == "ErrImagePull");
    }

    [Fact]
    public void After_a_fallback_the_locally_built_image_is_used_without_another_pull_for_a_while()
    {
        _runtime.WithImage("orchestrator/http-server:latest");
        var sources = PodSources.None with { Images = new ImagePuller(_runtime, ImagePullSettings.Default) };
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(TestPods.Pod("web-1", image: "orchestrator/http-server:latest"), _runtime, Fast, sources));
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");

        // A probe of its own: ChildActorOf waits for the child's reference, which a late report of web-1 could overtake.
        var secondParent = CreateTestProbe();
        secondParent.ChildActorOf(PodSupervisor.Props(TestPods.Pod("web-2", image: "orchestrator/http-server:latest"), _runtime, Fast, sources));
        var pulled = secondParent.Expect<NodeEventReported>(e => e.Event.Reason == "Pulled" && e.Event.InvolvedObject.Name == "web-2");
        Assert.StartsWith("Container image \"orchestrator/http-server:latest\" already present on machine (built or loaded on this node; its pull failed",
            pulled.Event.Message);
        secondParent.Expect<PodStatusReported>(r => r.Name == "web-2" && r.Status.Phase == "Running");
        Assert.Equal(1, _runtime.PullCount);
    }

    [Fact]
    public void The_pods_pull_secret_for_the_images_registry_is_used_and_a_missing_one_is_reported()
    {
        _runtime.InRegistry("127.0.0.1:5000/private:v1");
        var configs = new ConfigDirectory();
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "regcred", NamespaceProperty = "default" },
            Type = RegistryCredentials.DockerConfigJsonType,
            Data = new Dictionary<string, byte[]> { [".dockerconfigjson"] = Encoding.UTF8.GetBytes("""{"auths":{"127.0.0.1:5000":{"username":"alice","password":"s3cret"}}}""") },
        };
        configs.Publish(new PodConfigChanged("node-a", 1, [], [secret]));
        var pod = Pod("127.0.0.1:5000/private:v1");
        pod.Spec.ImagePullSecrets = [new V1LocalObjectReference { Name = "regcred" }, new V1LocalObjectReference { Name = "gone" }];
        var parent = CreateTestProbe();
        parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast, new PodSources(configs, null, null)));

        var missing = parent.Expect<NodeEventReported>(e => e.Event.Reason == "FailedToRetrieveImagePullSecret");
        Assert.Equal("Unable to retrieve some image pull secrets (gone); attempting to pull the image may not succeed.", missing.Event.Message);
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        var pull = Assert.Single(_runtime.Pulls);
        Assert.Equal([new RegistryAuth("127.0.0.1:5000", "alice", "s3cret")], pull.Auths);
    }

    [Fact]
    public void Pods_that_need_the_same_image_at_once_share_one_pull()
    {
        _runtime.InRegistry("127.0.0.1:5000/app:v1");
        _runtime.PullGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var images = new ImagePuller(_runtime, ImagePullSettings.Default);
        var sources = PodSources.None with { Images = images };
        // One parent probe per pod: ChildActorOf waits for the child's reference, which the first pod's events could overtake.
        var parents = new[] { "web-1", "web-2" }.Select(name =>
        {
            var parent = CreateTestProbe();
            parent.ChildActorOf(PodSupervisor.Props(TestPods.Pod(name, image: "127.0.0.1:5000/app:v1"), _runtime, Fast, sources));
            return parent;
        }).ToList();
        foreach (var parent in parents)
            parent.Expect<NodeEventReported>(e => e.Event.Reason == "Pulling");

        _runtime.PullGate.SetResult();
        foreach (var parent in parents)
            parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.Equal(1, _runtime.PullCount);
    }
}
