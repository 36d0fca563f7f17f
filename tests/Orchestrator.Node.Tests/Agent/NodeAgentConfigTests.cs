using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Config;
using Orchestrator.Node.Services;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

/// <summary>The agent with the ConfigMaps and Secrets the master sends it: environments and volumes made from them, a
/// missing one waited for.</summary>
public sealed class NodeAgentConfigTests : TestKit
{
    private readonly FakeRuntime _runtime = new FakeRuntime().WithImage("web:1");
    private readonly TestProbe _gateway;
    private readonly ConfigDirectory _configs = new();

    public NodeAgentConfigTests() => _gateway = CreateTestProbe("node-gateway");

    private IActorRef StartRegistered()
    {
        var settings = new NodeAgentSettings("node-a", "127.0.0.1", _gateway.Ref.Path.ToString(), UseCluster: false,
            RegisterInterval: TimeSpan.FromMilliseconds(200), HeartbeatInterval: TimeSpan.FromSeconds(30),
            OrphanSweepInterval: TimeSpan.FromMilliseconds(300), RuntimeRetryInterval: TimeSpan.FromMilliseconds(100),
            MasterLostTimeout: TimeSpan.FromSeconds(30),
            Pods: new PodSupervisorSettings("node-a", "127.0.0.1", TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));
        var agent = Sys.ActorOf(NodeAgent.Props(settings, _runtime, new ServiceDirectory(), configs: _configs));
        _gateway.ExpectMsg<RegisterNode>();
        agent.Tell(new NodeRegistered("node-a"), _gateway.Ref);
        return agent;
    }

    private static V1Pod PodReading(string key)
    {
        var pod = TestPods.Pod("web-1");
        pod.Spec.Containers[0].Env =
        [
            new V1EnvVar { Name = "MODE", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "settings", Key = key } } },
            new V1EnvVar { Name = "PASSWORD", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "db", Key = "password" } } },
        ];
        pod.Spec.Volumes = [new V1Volume { Name = "creds", Secret = new V1SecretVolumeSource { SecretName = "db" } }];
        pod.Spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "creds", MountPath = "/creds" }];
        return pod;
    }

    [Fact]
    public void A_missing_key_keeps_the_container_in_CreateContainerConfigError_until_the_config_map_has_it()
    {
        var agent = StartRegistered();
        var pod = PodReading("mode");
        var secret = TestConfig.Secret("db", ("password", "s3cret"));
        agent.Tell(new PodConfigChanged("node-a", 1, [TestConfig.ConfigMap("settings", ("other", "x"))], [secret]), _gateway.Ref);
        agent.Tell(new DesiredPodsChanged("node-a", 2, [pod]), _gateway.Ref);

        var waiting = _gateway.Expect<PodStatusReported>(r => r.Status.ContainerStatuses?[0].State.Waiting?.Reason == "CreateContainerConfigError");
        Assert.Equal("couldn't find key mode in ConfigMap default/settings", waiting.Status.ContainerStatuses[0].State.Waiting.Message);
        Assert.Equal("Pending", waiting.Status.Phase);
        Assert.Equal(0, _runtime.CreateCount);

        // the ConfigMap is edited: the gateway sends the configuration again, then the pods
        agent.Tell(new PodConfigChanged("node-a", 3, [TestConfig.ConfigMap("settings", ("mode", "fast"))], [secret]), _gateway.Ref);
        agent.Tell(new DesiredPodsChanged("node-a", 4, [pod]), _gateway.Ref);

        _gateway.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        var created = _runtime.Of(pod.Metadata.Uid).Single(c => !c.IsSandbox);
        Assert.Contains("MODE=fast", created.Request!.Environment!);
        Assert.Contains("PASSWORD=s3cret", created.Request.Environment!);
        var volume = Assert.Single(_runtime.Projections[pod.Metadata.Uid]);
        Assert.Equal(("creds", true, "password"), (volume.Name, volume.Tmpfs, volume.Files.Single().Path));
    }

    [Fact]
    public void A_missing_volume_source_is_a_FailedMount_event_and_the_pod_waits_without_a_sandbox()
    {
        var agent = StartRegistered();
        var pod = PodReading("mode");
        agent.Tell(new PodConfigChanged("node-a", 1, [TestConfig.ConfigMap("settings", ("mode", "fast"))], []), _gateway.Ref);
        agent.Tell(new DesiredPodsChanged("node-a", 2, [pod]), _gateway.Ref);

        var failed = _gateway.Expect<NodeEventReported>(e => e.Event.Reason == "FailedMount");
        Assert.Equal("MountVolume.SetUp failed for volume \"creds\" : secret \"db\" not found", failed.Event.Message);
        Assert.Equal("Warning", failed.Event.Type);
        Assert.Empty(_runtime.Of(pod.Metadata.Uid));

        agent.Tell(new PodConfigChanged("node-a", 3, [TestConfig.ConfigMap("settings", ("mode", "fast"))], [TestConfig.Secret("db", ("password", "p"))]), _gateway.Ref);
        agent.Tell(new DesiredPodsChanged("node-a", 4, [pod]), _gateway.Ref);
        _gateway.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
    }

    [Fact]
    public void A_changed_config_map_reaches_the_running_pods_volume()
    {
        var agent = StartRegistered();
        var pod = TestPods.Pod("web-1");
        pod.Spec.Volumes = [new V1Volume { Name = "conf", ConfigMap = new V1ConfigMapVolumeSource { Name = "settings" } }];
        agent.Tell(new PodConfigChanged("node-a", 1, [TestConfig.ConfigMap("settings", ("mode", "slow"))], []), _gateway.Ref);
        agent.Tell(new DesiredPodsChanged("node-a", 2, [pod]), _gateway.Ref);
        _gateway.Expect<PodStatusReported>(r => r.Status.Phase == "Running");

        agent.Tell(new PodConfigChanged("node-a", 3, [TestConfig.ConfigMap("settings", ("mode", "fast"))], []), _gateway.Ref);
        agent.Tell(new DesiredPodsChanged("node-a", 4, [pod]), _gateway.Ref);

        AwaitAssert(() => Assert.Equal("fast",
            System.Text.Encoding.UTF8.GetString(_runtime.Projections[pod.Metadata.Uid].Single().Files.Single().Content)));
    }

    [Fact]
    public void The_orphan_sweep_removes_the_volumes_of_pods_that_are_gone_and_keeps_those_of_desired_pods()
    {
        _runtime.VolumeOwners["deleted-while-down"] = true;
        var agent = StartRegistered();
        var pod = TestPods.Pod("web-1");
        pod.Spec.Volumes = [new V1Volume { Name = "conf", ConfigMap = new V1ConfigMapVolumeSource { Name = "settings" } }];
        agent.Tell(new PodConfigChanged("node-a", 1, [TestConfig.ConfigMap("settings", ("mode", "slow"))], []), _gateway.Ref);
        agent.Tell(new DesiredPodsChanged("node-a", 2, [pod]), _gateway.Ref);
        _gateway.Expect<PodStatusReported>(r => r.Status.Phase == "Running");

        AwaitAssert(() => Assert.Equal([pod.Metadata.Uid], _runtime.VolumeOwners.Keys), TimeSpan.FromSeconds(5));
    }
}
