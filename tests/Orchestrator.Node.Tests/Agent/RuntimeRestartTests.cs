using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Services;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

/// <summary>The container runtime stops under a running node and comes back (`systemctl restart docker`, a dockerd crash):
/// the node is NotReady while it is down and its pods are not synced; when it answers again each pod gets a new sandbox
/// and its containers are started again per restartPolicy, as the kubelet does.</summary>
public sealed class RuntimeRestartTests : TestKit
{
    private readonly FakeRuntime _runtime = new FakeRuntime().WithImage("web:1");

    private static readonly PodSupervisorSettings Fast = new("node-a", "127.0.0.1",
        SyncInterval: TimeSpan.FromMilliseconds(50), InitialBackOff: TimeSpan.FromMilliseconds(300), MaxBackOff: TimeSpan.FromSeconds(3));

    /// <summary>Returns once <paramref name="actor"/> has handled everything sent to it before (its mailbox is in order,
    /// and an async handler holds the mailbox until it completes).</summary>
    private void Drained(IActorRef actor)
    {
        actor.Tell(new Identify(null), TestActor);
        ExpectMsg<ActorIdentity>();
    }

    private (TestProbe Parent, IActorRef Supervisor) Running(V1Pod pod)
    {
        var parent = CreateTestProbe();
        var supervisor = parent.ChildActorOf(PodSupervisor.Props(pod, _runtime, Fast));
        parent.Expect<PodStatusReported>(r => r.Status.Phase == "Running" && r.Status.ContainerStatuses[0].Ready == true);
        return (parent, supervisor);
    }

    [Fact]
    public void While_the_runtime_is_down_a_supervisor_makes_no_runtime_call_and_records_no_event()
    {
        var (parent, supervisor) = Running(TestPods.Pod("web-1"));
        supervisor.Tell(RuntimeUnavailable.Instance);
        Drained(supervisor);

        _runtime.StopEngine();
        for (var i = 0; i < 5; i++) supervisor.Tell(SyncPod.Instance); // what its timer would send
        Drained(supervisor);

        Assert.Equal(0, _runtime.CallsWhileStopped);
        parent.ReceiveWhile(TimeSpan.Zero, m => m).ToList().ForEach(m =>
            Assert.False(m is NodeEventReported, $"an event while the runtime was down: {(m as NodeEventReported)?.Event.Reason}"));
    }

    [Fact]
    public void A_sync_that_fails_with_a_new_error_asks_the_agent_to_check_the_runtime_once()
    {
        var pod = TestPods.Pod("web-1");
        var (parent, supervisor) = Running(pod);

        _runtime.StopEngine();
        var failed = parent.Expect<PodSyncFailed>(_ => true);
        Assert.Equal(pod.Metadata.Uid, failed.Uid);
        Assert.Contains("Connection refused", failed.Error);
        supervisor.Tell(SyncPod.Instance);
        supervisor.Tell(SyncPod.Instance);
        Drained(supervisor);
        // the same error again is neither a new event nor a new question
        Assert.DoesNotContain(parent.ReceiveWhile(TimeSpan.Zero, m => m), m => m is PodSyncFailed or NodeEventReported { Event.Reason: "FailedSync" });
    }

    [Theory]
    [InlineData("Always", "Running", 1)]
    [InlineData("OnFailure", "Running", 1)] // killed by the engine's stop: exit 143 is a failure
    public void When_the_runtime_is_back_the_pod_gets_a_new_sandbox_and_its_containers_restart(string restartPolicy, string phase, int restarts)
    {
        var pod = TestPods.Pod("web-1", restartPolicy: restartPolicy);
        var (parent, supervisor) = Running(pod);
        var before = _runtime.SandboxesOf(pod.Metadata.Uid).Single();
        supervisor.Tell(RuntimeUnavailable.Instance);
        Drained(supervisor);
        _runtime.StopEngine();

        _runtime.StartEngine();
        supervisor.Tell(RuntimeAvailable.Instance);

        var changed = parent.Expect<NodeEventReported>(e => e.Event.Reason == "SandboxChanged");
        Assert.Equal("Pod sandbox changed, it will be killed and re-created.", changed.Event.Message);
        var report = parent.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0].State.Running is not null);
        var status = report.Status.ContainerStatuses[0];
        Assert.Equal(phase, report.Status.Phase);
        Assert.Equal(restarts, status.RestartCount);
        Assert.Equal(143, status.LastState.Terminated.ExitCode);
        var after = _runtime.SandboxesOf(pod.Metadata.Uid).Single();
        Assert.NotEqual(before.Id, after.Id);
        Assert.Equal(after.Ip, report.Status.PodIP);
        Assert.Equal(after.Id, _runtime.Of(pod.Metadata.Uid).Single(c => c.Running).SandboxId);
    }

    [Fact]
    public void When_the_runtime_is_back_a_pod_that_never_restarts_and_was_killed_has_failed()
    {
        var pod = TestPods.Pod("once", restartPolicy: "Never");
        var (parent, supervisor) = Running(pod);
        supervisor.Tell(RuntimeUnavailable.Instance);
        Drained(supervisor);
        _runtime.StopEngine();

        _runtime.StartEngine();
        supervisor.Tell(RuntimeAvailable.Instance);

        var report = parent.Expect<PodStatusReported>(r => r.Status.Phase == "Failed");
        var status = report.Status.ContainerStatuses[0];
        Assert.Equal(0, status.RestartCount);
        Assert.Equal(143, status.State.Terminated.ExitCode);
        Assert.Equal("Error", status.State.Terminated.Reason);
        Drained(supervisor);
        Assert.Empty(_runtime.SandboxesOf(pod.Metadata.Uid)); // no new sandbox: its address went back to the node's range
    }

    // ---- the agent ----------------------------------------------------------------------------------------

    private readonly ServiceDirectory _services = new();

    private NodeAgentSettings AgentSettings(TestProbe gateway) => new(
        "node-a", "127.0.0.1", gateway.Ref.Path.ToString(), UseCluster: false,
        RegisterInterval: TimeSpan.FromMilliseconds(200),
        // no heartbeat would come within a test: what the agent sends, it sends because of the runtime
        HeartbeatInterval: TimeSpan.FromHours(1),
        OrphanSweepInterval: TimeSpan.FromHours(1),
        RuntimeRetryInterval: TimeSpan.FromMilliseconds(100),
        MasterLostTimeout: TimeSpan.FromSeconds(30),
        Pods: Fast);

    private static V1NodeCondition Ready(NodeHeartbeat beat) => beat.Status.Conditions.Single(c => c.Type == "Ready");

    /// <summary>The first heartbeat whose Ready condition is <paramref name="status"/> and the node event
    /// <paramref name="reason"/>, in whichever order they come.</summary>
    internal static (NodeHeartbeat Beat, NodeEventReported Event) ReadyChange(TestProbe gateway, string status, string reason)
    {
        NodeHeartbeat? beat = null;
        NodeEventReported? ev = null;
        while (beat is null || ev is null)
        {
            var m = gateway.Expect<object>(x => (x is NodeHeartbeat h && Ready(h).Status == status && beat is null)
                                                || (x is NodeEventReported e && e.Event.Reason == reason));
            if (m is NodeHeartbeat h) beat = h;
            else ev = (NodeEventReported)m;
        }
        return (beat, ev);
    }

    private (TestProbe Gateway, IActorRef Agent, V1Pod Pod) RegisteredWithARunningPod()
    {
        var gateway = CreateTestProbe();
        var agent = Sys.ActorOf(NodeAgent.Props(AgentSettings(gateway), _runtime, _services));
        gateway.ExpectMsg<RegisterNode>();
        agent.Tell(new NodeRegistered("node-a"), gateway.Ref);
        var pod = TestPods.Pod("web-1");
        agent.Tell(new DesiredPodsChanged("node-a", 1, [pod]));
        gateway.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        return (gateway, agent, pod);
    }

    [Fact]
    public void A_runtime_that_refuses_makes_the_node_NotReady_at_the_first_failed_sync_without_waiting_for_the_threshold()
    {
        var (gateway, _, _) = RegisteredWithARunningPod();

        _runtime.StopEngine();

        var (beat, notReady) = ReadyChange(gateway, "False", "NodeNotReady");
        Assert.Equal("KubeletNotReady", Ready(beat).Reason);
        // as the kubelet over cri-dockerd, whose Status answers RuntimeReady=false when Docker's version call fails
        Assert.Equal("container runtime not ready: RuntimeReady=false reason:DockerDaemonNotReady message:docker: failed to get docker version: " +
                     "cannot connect to the Docker engine at unix:///fake.sock: Connection refused", Ready(beat).Message);
        Assert.Equal(("Node", "node-a", "Node node-a status is now: NodeNotReady"),
            (notReady.Event.InvolvedObject.Kind, notReady.Event.InvolvedObject.Name, notReady.Event.Message));
    }

    [Fact]
    public void When_the_runtime_is_back_the_node_is_Ready_and_its_pods_run_again_in_new_sandboxes()
    {
        var (gateway, _, pod) = RegisteredWithARunningPod();
        var before = _runtime.SandboxesOf(pod.Metadata.Uid).Single().Id;
        _runtime.StopEngine();
        ReadyChange(gateway, "False", "NodeNotReady");

        _runtime.StartEngine();

        var (ready, _) = ReadyChange(gateway, "True", "NodeReady");
        Assert.Equal("KubeletReady", Ready(ready).Reason);
        var report = gateway.Expect<PodStatusReported>(r => r.Status.ContainerStatuses[0] is { RestartCount: 1, State.Running: not null });
        Assert.Equal("Running", report.Status.Phase);
        Assert.NotEqual(before, _runtime.SandboxesOf(pod.Metadata.Uid).Single().Id);
    }
}
