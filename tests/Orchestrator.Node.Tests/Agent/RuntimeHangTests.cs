using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Services;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

/// <summary>The container runtime hangs under a running node (dockerd stopped by SIGSTOP, or wedged): its calls are
/// neither answered nor refused. The node's heartbeats go on; it turns NotReady ("container runtime is down") only once
/// no status check has succeeded for the threshold (the kubelet's 30 s); its pods keep their containers, and when the
/// engine answers again the node is Ready with nothing restarted or made twice. The agent's clock is the test's:
/// the threshold is crossed by moving it, never by waiting.</summary>
public sealed class RuntimeHangTests : TestKit
{
    private readonly FakeRuntime _runtime = new FakeRuntime().WithImage("web:1");
    private readonly ServiceDirectory _services = new();
    private static readonly DateTime Start = new(2026, 12, 7, 5, 0, 0, DateTimeKind.Utc);
    private long _nowTicks = Start.Ticks;

    private DateTime AgentNow() => new(Interlocked.Read(ref _nowTicks), DateTimeKind.Utc);
    private void At(TimeSpan sinceStart) => Interlocked.Exchange(ref _nowTicks, (Start + sinceStart).Ticks);

    private static readonly PodSupervisorSettings Fast = new("node-a", "127.0.0.1",
        SyncInterval: TimeSpan.FromMilliseconds(50), InitialBackOff: TimeSpan.FromMilliseconds(300), MaxBackOff: TimeSpan.FromSeconds(3));

    private static NodeAgentSettings Settings(TestProbe gateway, TimeSpan? heartbeat = null) => new(
        "node-a", "127.0.0.1", gateway.Ref.Path.ToString(), UseCluster: false,
        RegisterInterval: TimeSpan.FromMilliseconds(200),
        HeartbeatInterval: heartbeat ?? TimeSpan.FromHours(1), // unless a test wants them, heartbeats are told by the test
        OrphanSweepInterval: TimeSpan.FromHours(1),
        RuntimeRetryInterval: TimeSpan.FromMilliseconds(50),
        MasterLostTimeout: TimeSpan.FromSeconds(30),
        Pods: Fast);

    private static V1NodeCondition Ready(V1NodeStatus status) => status.Conditions.Single(c => c.Type == "Ready");

    private void Drained(ICanTell actor)
    {
        actor.Tell(new Identify(null), TestActor);
        ExpectMsg<ActorIdentity>();
    }

    private (TestProbe Gateway, IActorRef Agent) Registered(TimeSpan? heartbeat = null)
    {
        var gateway = CreateTestProbe();
        var agent = Sys.ActorOf(NodeAgent.Props(Settings(gateway, heartbeat), _runtime, _services, clock: AgentNow));
        gateway.ExpectMsg<RegisterNode>();
        agent.Tell(new NodeRegistered("node-a"), gateway.Ref);
        return (gateway, agent);
    }

    /// <summary>Freezes the engine and returns once the agent's status check waits on it (every earlier check's answer
    /// handled: a check starts only after the previous one's), with <paramref name="othersWaiting"/> calls of others.</summary>
    private void FrozenUnderTheCheck(int othersWaiting = 0)
    {
        _runtime.Freeze();
        AwaitCondition(() => _runtime.CallsWhileFrozen >= 1 + othersWaiting);
    }

    private static NodeHeartbeat Beat(TestProbe gateway) => gateway.Expect<NodeHeartbeat>(_ => true);

    [Fact]
    public void Heartbeats_go_on_while_the_runtime_does_not_answer()
    {
        var (gateway, _) = Registered(heartbeat: TimeSpan.FromMilliseconds(100));
        FrozenUnderTheCheck();

        for (var i = 0; i < 3; i++)
            Assert.Equal("True", Ready(Beat(gateway).Status).Status); // within the threshold: still Ready
        _runtime.Thaw();
    }

    [Fact]
    public void The_node_is_NotReady_once_no_status_check_has_succeeded_for_30_seconds()
    {
        var (gateway, agent) = Registered();
        FrozenUnderTheCheck();

        At(TimeSpan.FromSeconds(29));
        agent.Tell(AgentTick.Heartbeat);
        Assert.Equal("True", Ready(Beat(gateway).Status).Status);

        At(TimeSpan.FromSeconds(30));
        agent.Tell(AgentTick.Heartbeat);
        var (beat, notReady) = RuntimeRestartTests.ReadyChange(gateway, "False", "NodeNotReady");
        Assert.Equal(("KubeletNotReady", "container runtime is down"), (Ready(beat.Status).Reason, Ready(beat.Status).Message));
        Assert.Equal(Start + TimeSpan.FromSeconds(30), Ready(beat.Status).LastTransitionTime);
        Assert.Equal("Node node-a status is now: NodeNotReady", notReady.Event.Message);
        _runtime.Thaw();
    }

    [Fact]
    public void A_node_whose_runtime_never_answers_registers_NotReady_after_30_seconds()
    {
        var gateway = CreateTestProbe();
        _runtime.Freeze();
        var agent = Sys.ActorOf(NodeAgent.Props(Settings(gateway), _runtime, _services, clock: AgentNow));
        AwaitCondition(() => _runtime.CallsWhileFrozen >= 1);

        At(TimeSpan.FromSeconds(30));
        agent.Tell(AgentTick.ProbeRuntime);

        var register = gateway.ExpectMsg<RegisterNode>();
        var ready = Ready(register.Node.Status);
        Assert.Equal(("False", "KubeletNotReady", "container runtime status check may not have completed yet"),
            (ready.Status, ready.Reason, ready.Message));
        _runtime.Thaw();
    }

    [Fact]
    public void A_hung_orphan_sweep_is_not_started_again_while_it_waits()
    {
        var (_, agent) = Registered();
        FrozenUnderTheCheck();

        agent.Tell(new DesiredPodsChanged("node-a", 1, [])); // the first pod set sweeps
        AwaitCondition(() => _runtime.CallsWhileFrozen >= 2);
        for (var i = 0; i < 3; i++) agent.Tell(AgentTick.Sweep);
        Drained(agent);

        Assert.Equal(2, _runtime.CallsWhileFrozen); // the check and one listing
        _runtime.Thaw();
    }

    [Fact]
    public void When_the_runtime_answers_again_the_node_is_Ready_and_its_pod_keeps_its_containers()
    {
        var (gateway, agent) = Registered();
        var pod = TestPods.Pod("web-1");
        agent.Tell(new DesiredPodsChanged("node-a", 1, [pod]));
        gateway.Expect<PodStatusReported>(r => r.Status.ContainerStatuses?[0].Ready == true);
        var sandbox = _runtime.SandboxesOf(pod.Metadata.Uid).Single().Id;
        var container = _runtime.Of(pod.Metadata.Uid).Single().Id;
        var created = _runtime.CreateCount;
        FrozenUnderTheCheck(othersWaiting: 1); // and the pod's own sync, inspecting its container
        At(TimeSpan.FromSeconds(30));
        agent.Tell(AgentTick.Heartbeat);
        RuntimeRestartTests.ReadyChange(gateway, "False", "NodeNotReady");

        _runtime.Thaw();

        var (ready, _) = RuntimeRestartTests.ReadyChange(gateway, "True", "NodeReady");
        Assert.Equal("kubelet is posting ready status", Ready(ready.Status).Message);
        // the supervisor has handled RuntimeAvailable (told before the heartbeat), then the sync it asked for
        var supervisor = Sys.ActorSelection(agent.Path / $"pod-{pod.Metadata.Uid}-1");
        Drained(supervisor);
        Drained(supervisor);
        Assert.Equal(created, _runtime.CreateCount);
        Assert.Equal(sandbox, Assert.Single(_runtime.SandboxesOf(pod.Metadata.Uid)).Id);
        var kept = Assert.Single(_runtime.Of(pod.Metadata.Uid));
        Assert.Equal((container, true), (kept.Id, kept.Running));
        var seen = gateway.ReceiveWhile(TimeSpan.Zero, m => m);
        Assert.DoesNotContain(seen, m => m is NodeEventReported { Event.Reason: "SandboxChanged" or "Killing" or "Started" });
        Assert.DoesNotContain(seen, m => m is PodStatusReported r && r.Status.ContainerStatuses[0] is not { Ready: true, RestartCount: 0 });
    }
}
