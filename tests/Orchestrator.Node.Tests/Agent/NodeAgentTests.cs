using System.Collections.Immutable;
using System.Reflection;
using Akka.Actor;
using Akka.Cluster;
using Akka.TestKit;
using Akka.Util;
using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Services;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

public sealed class NodeAgentTests : TestKit
{
    private readonly FakeRuntime _runtime = new FakeRuntime().WithImage("web:1");
    private readonly ServiceDirectory _services = new();
    private readonly RecordingProxy _proxy;
    private readonly TestProbe _gateway;

    public NodeAgentTests()
    {
        _gateway = CreateTestProbe("node-gateway");
        _proxy = new RecordingProxy(_services);
    }

    private NodeAgentSettings Settings(TimeSpan? heartbeat = null) => new(
        "node-a", "127.0.0.1", _gateway.Ref.Path.ToString(), UseCluster: false,
        RegisterInterval: TimeSpan.FromMilliseconds(200),
        HeartbeatInterval: heartbeat ?? TimeSpan.FromSeconds(30),
        OrphanSweepInterval: TimeSpan.FromMilliseconds(300),
        RuntimeRetryInterval: TimeSpan.FromMilliseconds(100),
        MasterLostTimeout: TimeSpan.FromSeconds(30),
        Pods: new PodSupervisorSettings("node-a", "127.0.0.1", TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));

    private IActorRef StartRegistered(NodeAgentSettings? settings = null)
    {
        var agent = Sys.ActorOf(NodeAgent.Props(settings ?? Settings(), _runtime, _services));
        _gateway.ExpectMsg<RegisterNode>();
        agent.Tell(new NodeRegistered("node-a"), _gateway.Ref);
        SettleRegistrations(agent);
        return agent;
    }

    /// <summary>Takes from the gateway the registrations the agent's timer sent before it took the acknowledgement (one
    /// every RegisterInterval while the test had not answered yet, on a loaded machine): the agent answers Identify in
    /// mailbox order, so once it has, everything it sent before the ack is in the probe, and the timer is cancelled.</summary>
    private void SettleRegistrations(IActorRef agent)
    {
        agent.Tell(new Identify(null), TestActor);
        ExpectMsg<ActorIdentity>();
        while (_gateway.HasMessages) _gateway.ExpectMsg<RegisterNode>();
    }

    [Fact]
    public void Registers_a_ready_node_with_machine_capacity_and_kubelet_info()
    {
        Sys.ActorOf(NodeAgent.Props(Settings(), _runtime, _services));
        var node = _gateway.ExpectMsg<RegisterNode>().Node;

        Assert.Equal("node-a", node.Metadata.Name);
        Assert.Equal("node-a", node.Metadata.Labels["kubernetes.io/hostname"]);
        Assert.Equal("linux", node.Metadata.Labels["kubernetes.io/os"]);
        Assert.Equal(Environment.ProcessorCount.ToString(), node.Status.Capacity["cpu"].ToString());
        Assert.Equal("110", node.Status.Allocatable["pods"].ToString());
        Assert.True(node.Status.Capacity["memory"].ToInt64() > 0);
        Assert.Contains(node.Status.Addresses, a => a.Type == "InternalIP" && a.Address == "127.0.0.1");
        Assert.Equal("docker://fake", node.Status.NodeInfo.ContainerRuntimeVersion);
        Assert.Equal("v1.32.0-orchestrator", node.Status.NodeInfo.KubeletVersion);
        var ready = node.Status.Conditions.Single(c => c.Type == "Ready");
        Assert.Equal(("True", "KubeletReady", "kubelet is posting ready status"), (ready.Status, ready.Reason, ready.Message));
    }

    [Fact]
    public void Registers_again_until_the_master_acknowledges()
    {
        var agent = Sys.ActorOf(NodeAgent.Props(Settings(), _runtime, _services));
        _gateway.ExpectMsg<RegisterNode>();
        _gateway.ExpectMsg<RegisterNode>(TimeSpan.FromSeconds(2));
        agent.Tell(new NodeRegistered("node-a"), _gateway.Ref);
        SettleRegistrations(agent);
        _gateway.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public void The_masters_membership_sends_no_second_registration_while_the_first_is_on_its_way()
    {
        // the master's gateway at the path the cluster names (a forwarder to the probe), as in a first start: the node
        // registers with the configured address, then the master's MemberUp names the same gateway
        var address = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;
        var forwarder = Sys.ActorOf(Props.Create(() => new Forwarder(_gateway.Ref)), NodeProtocolNames.GatewayActorName);
        var settings = Settings() with
        {
            GatewayPath = $"{address}/user/{NodeProtocolNames.GatewayActorName}",
            RegisterInterval = TimeSpan.FromMinutes(5), // no retry by the timer within the test
        };
        var agent = Sys.ActorOf(NodeAgent.Props(settings, _runtime, _services));
        _gateway.ExpectMsg<RegisterNode>();

        agent.Tell(new ClusterEvent.MemberUp(UpMember(address, NodeProtocolNames.MasterRole)));

        // the agent handled the MemberUp before it answers Identify, and the forwarder passed on whatever it sent before
        // it answers its own: nothing more reached the gateway (a second registration would cross the certificate)
        agent.Tell(new Identify(null), TestActor);
        ExpectMsg<ActorIdentity>();
        forwarder.Tell(new Identify(null), TestActor);
        ExpectMsg<ActorIdentity>();
        Assert.False(_gateway.HasMessages);
    }

    [Fact]
    public void Registers_again_when_the_master_it_registered_with_is_up_again_as_another_incarnation()
    {
        // registered with a master that then crashed before this node had joined its cluster, and restarted at the same
        // address: the cluster's MemberUp is the only sign (the old gateway's watch never fires for a member's address)
        var address = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;
        var forwarder = Sys.ActorOf(Props.Create(() => new Forwarder(_gateway.Ref)), NodeProtocolNames.GatewayActorName);
        var settings = Settings() with
        {
            GatewayPath = $"{address}/user/{NodeProtocolNames.GatewayActorName}",
            RegisterInterval = TimeSpan.FromMinutes(5),
        };
        var agent = Sys.ActorOf(NodeAgent.Props(settings, _runtime, _services));
        _gateway.ExpectMsg<RegisterNode>();
        agent.Tell(new NodeRegistered("node-a", MasterUid: 7), forwarder);

        agent.Tell(new ClusterEvent.MemberUp(UpMember(address, NodeProtocolNames.MasterRole, uid: 7)));
        agent.Tell(new Identify(null), TestActor);
        ExpectMsg<ActorIdentity>();
        forwarder.Tell(new Identify(null), TestActor);
        ExpectMsg<ActorIdentity>();
        Assert.False(_gateway.HasMessages); // the same master: nothing to do

        agent.Tell(new ClusterEvent.MemberUp(UpMember(address, NodeProtocolNames.MasterRole, uid: 8)));
        _gateway.ExpectMsg<RegisterNode>(TimeSpan.FromSeconds(2));
    }

    /// <summary>A cluster member in state Up (Akka makes members only internally, hence reflection).</summary>
    private static Member UpMember(Address address, string role, int uid = 1)
    {
        var create = typeof(Member).GetMethod("Create", BindingFlags.NonPublic | BindingFlags.Static,
            [typeof(UniqueAddress), typeof(int), typeof(MemberStatus), typeof(ImmutableHashSet<string>), typeof(AppVersion)])!;
        return (Member)create.Invoke(null, [new UniqueAddress(address, uid), 1, MemberStatus.Up, ImmutableHashSet.Create(role), AppVersion.Zero])!;
    }

    private sealed class Forwarder : ReceiveActor
    {
        public Forwarder(IActorRef to) => ReceiveAny(m => to.Forward(m));
    }

    [Fact]
    public void Sends_heartbeats_after_registration()
    {
        StartRegistered(Settings(heartbeat: TimeSpan.FromMilliseconds(100)));
        var beat = _gateway.ExpectMsg<NodeHeartbeat>(TimeSpan.FromSeconds(2));
        Assert.Equal("node-a", beat.NodeName);
        Assert.Equal("True", beat.Status.Conditions.Single(c => c.Type == "Ready").Status);
    }

    [Fact]
    public void Heartbeats_say_NotReady_while_the_container_runtime_is_down()
    {
        StartRegistered(Settings(heartbeat: TimeSpan.FromMilliseconds(100)));
        _runtime.Available = false;
        var beat = _gateway.Expect<NodeHeartbeat>(h => h.Status.Conditions.Single(c => c.Type == "Ready").Status == "False", TimeSpan.FromSeconds(3));
        Assert.Equal("KubeletNotReady", beat.Status.Conditions.Single(c => c.Type == "Ready").Reason);
        _runtime.Available = true;
        _gateway.Expect<NodeHeartbeat>(h => h.Status.Conditions.Single(c => c.Type == "Ready").Status == "True", TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void Registers_again_when_the_gateway_it_registered_with_dies()
    {
        var agent = Sys.ActorOf(NodeAgent.Props(Settings(), _runtime, _services));
        _gateway.ExpectMsg<RegisterNode>();
        var oldGateway = CreateTestProbe();
        agent.Tell(new NodeRegistered("node-a"), oldGateway.Ref);
        SettleRegistrations(agent);
        _gateway.ExpectNoMsg(TimeSpan.FromMilliseconds(400));

        Sys.Stop(oldGateway.Ref);
        _gateway.ExpectMsg<RegisterNode>(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Starts_desired_pods_and_relays_their_status_to_the_master()
    {
        var agent = StartRegistered();
        var pod = TestPods.Pod("web-1");
        agent.Tell(new DesiredPodsChanged("node-a", 1, [pod]));

        var report = _gateway.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.Equal(pod.Metadata.Uid, report.Uid);
        Assert.Single(_runtime.Of(pod.Metadata.Uid));
    }

    [Fact]
    public void Adopts_containers_of_desired_pods_without_duplicates_and_removes_orphans()
    {
        var pod = TestPods.Pod("web-1");
        var sandbox = _runtime.SeedSandbox(pod.Metadata.Uid, "web-1");
        var adopted = _runtime.Seed(pod.Metadata.Uid, "web-1", "app", sandboxId: sandbox.Id);
        var goneUid = Guid.NewGuid().ToString();
        var orphanSandbox = _runtime.SeedSandbox(goneUid, "gone-1");
        var orphan = _runtime.Seed(goneUid, "gone-1", "app", sandboxId: orphanSandbox.Id);
        var agent = StartRegistered();

        agent.Tell(new DesiredPodsChanged("node-a", 1, [pod]));
        var report = _gateway.Expect<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.Equal($"docker://{adopted.Id}", report.Status.ContainerStatuses[0].ContainerID);
        Assert.Equal(sandbox.Ip, report.Status.PodIP);
        AwaitCondition(() => !_runtime.Containers.ContainsKey(orphan.Id) && !_runtime.Containers.ContainsKey(orphanSandbox.Id));
        Assert.Equal(["remove app", "remove POD"], _runtime.Calls.Where(c => c.StartsWith("remove")));
        Assert.Equal(0, _runtime.CreateCount);
        Assert.Equal(0, _runtime.SandboxCount);
        Assert.True(_runtime.Containers.ContainsKey(adopted.Id));
        Assert.True(_runtime.Containers.ContainsKey(sandbox.Id));
    }

    [Fact]
    public void Does_not_remove_anything_before_the_master_sent_the_desired_pods()
    {
        var leftover = _runtime.Seed(Guid.NewGuid().ToString(), "web-1", "app");
        StartRegistered();
        _gateway.ExpectNoMsg(TimeSpan.FromMilliseconds(800)); // three orphan sweep periods
        Assert.True(_runtime.Containers.ContainsKey(leftover.Id));
    }

    [Fact]
    public void Stops_and_removes_pods_that_are_no_longer_desired()
    {
        var agent = StartRegistered();
        var keep = TestPods.Pod("keep-1");
        var drop = TestPods.Pod("drop-1");
        agent.Tell(new DesiredPodsChanged("node-a", 1, [keep, drop]));
        AwaitCondition(() => _runtime.Of(keep.Metadata.Uid).Any(c => c.Running) && _runtime.Of(drop.Metadata.Uid).Any(c => c.Running));

        agent.Tell(new DesiredPodsChanged("node-a", 2, [keep]));
        AwaitCondition(() => !_runtime.Of(drop.Metadata.Uid).Any());
        Assert.Single(_runtime.Of(keep.Metadata.Uid));
    }

    [Fact]
    public void A_pod_being_deleted_is_stopped_and_its_final_status_reported()
    {
        var agent = StartRegistered();
        var pod = TestPods.Pod("web-1");
        agent.Tell(new DesiredPodsChanged("node-a", 1, [pod]));
        _gateway.Expect<PodStatusReported>(r => r.Status.Phase == "Running");

        var deleting = Shared.Api.KubeObjects.Clone(pod);
        deleting.Metadata.DeletionTimestamp = DateTime.UtcNow;
        deleting.Metadata.DeletionGracePeriodSeconds = 3;
        agent.Tell(new DesiredPodsChanged("node-a", 2, [deleting]));
        _gateway.Expect<PodStatusReported>(r => r.Uid == pod.Metadata.Uid && r.Status.ContainerStatuses[0].State.Terminated != null);
        AwaitCondition(() => !_runtime.Of(pod.Metadata.Uid).Any());
    }

    [Fact]
    public void Ignores_an_older_generation_of_desired_pods()
    {
        var agent = StartRegistered();
        var pod = TestPods.Pod("web-1");
        agent.Tell(new DesiredPodsChanged("node-a", 5, [pod]));
        AwaitCondition(() => _runtime.Of(pod.Metadata.Uid).Any(c => c.Running));

        agent.Tell(new DesiredPodsChanged("node-a", 4, []));
        // long enough for the stale set to stop the pod, if it were applied (ten supervisor syncs)
        var seen = _gateway.ReceiveWhile(TimeSpan.FromMilliseconds(500), m => m);
        Assert.DoesNotContain(seen, m => m is NodeEventReported { Event.Reason: "Killing" });
        Assert.Single(_runtime.Of(pod.Metadata.Uid));
    }

    [Fact]
    public void Accepts_a_restarted_masters_generations_after_registering_again()
    {
        var agent = StartRegistered();
        agent.Tell(new DesiredPodsChanged("node-a", 40, []));
        agent.Tell(new NodeRegistered("node-a"), CreateTestProbe().Ref); // a new master numbers from 1
        var pod = TestPods.Pod("web-1");
        agent.Tell(new DesiredPodsChanged("node-a", 1, [pod]));
        AwaitCondition(() => _runtime.Of(pod.Metadata.Uid).Any(c => c.Running));
    }

    [Fact]
    public void Hands_the_newest_services_to_the_proxy()
    {
        var agent = StartRegistered();
        agent.Tell(new ServicesChanged(2, [new V1Service { Metadata = new V1ObjectMeta { Name = "web" } }], []));
        agent.Tell(new ServicesChanged(1, [], []));
        // the agent publishes each generation it takes before it handles the next message, so once it answers this
        // it has taken or dropped both
        agent.Tell(new Identify(null), TestActor);
        ExpectMsg<ActorIdentity>();
        lock (_proxy.Applied) Assert.Equal([2L], _proxy.Applied.Select(a => a.Generation));
    }

    /// <summary>A reader of the node's Services view, as the service proxy is.</summary>
    private sealed class RecordingProxy
    {
        public RecordingProxy(ServiceDirectory services) => services.Subscribe(Apply);
        public List<ServicesChanged> Applied { get; } = [];
        private void Apply(ServicesChanged services) { lock (Applied) Applied.Add(services); }
    }
}
