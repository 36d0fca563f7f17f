using Akka.Actor;
using Akka.TestKit;
using k8s.Models;
using Orchestrator.Master.Nodes;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Orchestrator.Shared.Api;
using Orchestrator.Shared.Protocol;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Nodes;

public sealed class NodeGatewayTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static V1Node Reported(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = name } },
        Status = new V1NodeStatus
        {
            Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "KubeletReady" }],
            Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "127.0.0.1" }],
        },
    };

    private T AwaitAssertReturn<T>(Func<T> find)
    {
        T value = default!;
        AwaitAssert(() => value = find());
        return value;
    }

    /// <summary>A gateway with one node registered; <paramref name="store"/> stands in front of the store when given.</summary>
    private (IActorRef Gateway, TestProbe Agent) Registered(string node, IActorRef? store = null)
    {
        var gateway = Sys.ActorOf(NodeGateway.Props(store ?? Store));
        var agent = CreateTestProbe("agent");
        gateway.Tell(new RegisterNode(Reported(node)), agent.Ref);
        agent.ExpectMsg<NodeRegistered>(r => Assert.Equal(node, r.NodeName));
        return (gateway, agent);
    }

    [Fact]
    public void Registration_creates_a_ready_node_and_sends_the_desired_state()
    {
        var (_, agent) = Registered("node1");

        var config = agent.ExpectMsg<PodConfigChanged>(); // before the pods, on the same channel
        Assert.Empty(config.ConfigMaps);
        Assert.Empty(config.Secrets);
        Assert.Empty(agent.ExpectMsg<DesiredPodsChanged>().Pods);
        var services = agent.ExpectMsg<ServicesChanged>();
        Assert.Contains(services.Services, s => s.Metadata.Name == "kubernetes");
        AwaitAssert(() =>
        {
            var node = Find<V1Node>("node1")!;
            Assert.Equal("127.0.0.1", node.Status?.Addresses?.Single().Address);
            var ready = node.Status!.Conditions.Single(c => c.Type == "Ready");
            Assert.Equal("True", ready.Status);
            Assert.NotNull(ready.LastHeartbeatTime);
        });
    }

    [Fact]
    public void Every_heartbeat_renews_the_node_lease_and_an_unchanged_status_is_not_written_again()
    {
        var gateway = Sys.ActorOf(NodeGateway.Props(Store, new NodeGatewaySettings(TimeSpan.FromHours(1))));
        var agent = CreateTestProbe("agent");
        gateway.Tell(new RegisterNode(Reported("node1")), agent.Ref);
        agent.ExpectMsg<NodeRegistered>();
        var node = AwaitAssertReturn(() => Assert.IsType<V1Node>(Find<V1Node>("node1")));

        gateway.Tell(new NodeHeartbeat("node1", Reported("node1").Status), agent.Ref);
        var lease = AwaitAssertReturn(() => Assert.Single(All<V1Lease>()));
        Assert.Equal(("node1", "kube-node-lease", "node1", 40), (lease.Metadata.Name, lease.Metadata.NamespaceProperty,
            lease.Spec.HolderIdentity, lease.Spec.LeaseDurationSeconds));
        var owner = Assert.Single(lease.Metadata.OwnerReferences);
        Assert.Equal(("v1", "Node", "node1", node.Metadata.Uid), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid));

        // the next heartbeat renews the lease only: the node's status is the same
        var statusVersion = Find<V1Node>("node1")!.Metadata.ResourceVersion;
        Thread.Sleep(20); // a later renewTime (microseconds)
        gateway.Tell(new NodeHeartbeat("node1", Reported("node1").Status), agent.Ref);
        AwaitAssert(() => Assert.True(Assert.Single(All<V1Lease>()).Spec.RenewTime > lease.Spec.RenewTime));
        Assert.Equal(statusVersion, Find<V1Node>("node1")!.Metadata.ResourceVersion);

        // a changed status is written at once
        var pressured = Reported("node1").Status;
        pressured.Conditions.Add(new V1NodeCondition { Type = "MemoryPressure", Status = "True", Reason = "KubeletHasInsufficientMemory" });
        gateway.Tell(new NodeHeartbeat("node1", pressured), agent.Ref);
        AwaitAssert(() => Assert.Equal("True", Find<V1Node>("node1")!.Status.Conditions.Single(c => c.Type == "MemoryPressure").Status));
    }

    [Fact]
    public void Registration_with_a_signing_request_answers_a_serving_certificate_for_the_nodes_name_and_registered_address()
    {
        var ca = new KubeletCertificateAuthority(KubeletCertificateAuthority.CreateCertificate());
        var gateway = Sys.ActorOf(NodeGateway.Props(Store, NodeGatewaySettings.Default with { KubeletCa = ca }));
        var agent = CreateTestProbe("agent");
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        // what the node asks for does not matter: the master names it after the registration
        var request = KubeletTls.SigningRequest(key, "someone-else", System.Net.IPAddress.Parse("10.9.9.9"));

        gateway.Tell(new RegisterNode(Reported("node1"), request), agent.Ref);

        var registered = agent.ExpectMsg<NodeRegistered>();
        Assert.Equal(ca.CertificatePem, registered.KubeletCa);
        using var issued = KubeletTls.WithKey(registered.KubeletCertificate!, key);
        Assert.NotNull(issued);
        Assert.Null(KubeletTls.CheckServing(issued, ca.Certificate, "node1", "127.0.0.1"));
        Assert.NotNull(KubeletTls.CheckServing(issued, ca.Certificate, "someone-else", "127.0.0.1"));
        Assert.NotNull(KubeletTls.CheckServing(issued, ca.Certificate, "node1", "10.9.9.9"));
    }

    [Fact]
    public void A_signing_request_whose_signature_does_not_hold_gets_no_certificate()
    {
        var ca = new KubeletCertificateAuthority(KubeletCertificateAuthority.CreateCertificate());
        var gateway = Sys.ActorOf(NodeGateway.Props(Store, NodeGatewaySettings.Default with { KubeletCa = ca }));
        var agent = CreateTestProbe("agent");
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var pem = KubeletTls.SigningRequest(key, "node1", System.Net.IPAddress.Loopback);
        var der = Convert.FromBase64String(string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        der[^5] ^= 0xFF; // inside the signature
        var forged = "-----BEGIN CERTIFICATE REQUEST-----\n" + Convert.ToBase64String(der) + "\n-----END CERTIFICATE REQUEST-----\n";

        gateway.Tell(new RegisterNode(Reported("node1"), forged), agent.Ref);

        var registered = agent.ExpectMsg<NodeRegistered>();
        Assert.Equal("node1", registered.NodeName);
        Assert.Null(registered.KubeletCertificate);
    }

    [Fact]
    public void A_pod_bound_to_the_node_is_sent_to_its_agent_with_a_growing_generation()
    {
        var (_, agent) = Registered("node1");
        var first = agent.FishForMessage<DesiredPodsChanged>(_ => true);

        var pod = Seed(Pod("web-1", App("web")));
        var bound = Find<V1Pod>("web-1")!;
        bound.Spec.NodeName = "node1";
        Write(new UpdateObject("pods", bound));

        var next = agent.FishForMessage<DesiredPodsChanged>(m => m.Pods.Count == 1);
        Assert.Equal(pod.Metadata.Uid, next.Pods[0].Metadata.Uid);
        Assert.Equal("node1", next.NodeName);
        Assert.True(next.Generation > first.Generation);

        Write(new DeleteObject(new ResourceKey("pods", "default", "web-1")));
        var emptied = agent.FishForMessage<DesiredPodsChanged>(m => m.Pods.Count == 0);
        Assert.True(emptied.Generation > next.Generation);
    }

    private static V1Pod PodUsingConfig(string name, string nodeName)
    {
        var pod = Pod(name, App("web"), nodeName: nodeName);
        pod.Spec.Containers[0].Env =
        [
            new V1EnvVar { Name = "A", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "settings", Key = "a" } } },
            new V1EnvVar { Name = "P", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "db", Key = "password" } } },
        ];
        pod.Spec.Volumes =
        [
            new V1Volume { Name = "tls", Secret = new V1SecretVolumeSource { SecretName = "tls" } },
            new V1Volume
            {
                Name = "all", Projected = new V1ProjectedVolumeSource
                {
                    Sources = [new V1VolumeProjection { ConfigMap = new V1ConfigMapProjection { Name = "extra" } }],
                },
            },
        ];
        return pod;
    }

    private static V1ConfigMap ConfigMap(string name, string ns = "default", string value = "1") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns }, Data = new Dictionary<string, string> { ["a"] = value },
    };

    private static V1Secret Secret(string name, string ns = "default") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Data = new Dictionary<string, byte[]> { ["password"] = "s3cret"u8.ToArray() },
    };

    [Fact]
    public void A_node_gets_the_config_maps_and_secrets_its_pods_reference_and_no_others_before_the_pods()
    {
        Seed(ConfigMap("settings"));
        Seed(ConfigMap("extra"));
        Seed(ConfigMap("unrelated"));
        Seed(Secret("db"));
        Seed(Secret("tls"));
        Seed(Secret("not-mine"));
        Seed(new V1Namespace { Metadata = new V1ObjectMeta { Name = "other" } });
        Seed(Secret("db", "other"));
        var (_, agent) = Registered("node1");
        agent.FishForMessage<DesiredPodsChanged>(_ => true);

        Seed(PodUsingConfig("web-1", "node1"));

        var config = agent.FishForMessage<PodConfigChanged>(m => m.Secrets.Count > 0);
        Assert.Equal(["extra", "settings"], config.ConfigMaps.Select(c => c.Metadata.Name).Order());
        Assert.Equal(["default/db", "default/tls"], config.Secrets.Select(s => $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name}").Order());
        Assert.Equal("s3cret"u8.ToArray(), config.Secrets.Single(s => s.Metadata.Name == "db").Data["password"]);
        var pods = agent.ExpectMsg<DesiredPodsChanged>();
        Assert.Single(pods.Pods);
        Assert.True(pods.Generation > config.Generation);
        Assert.DoesNotContain("s3cret", config.ToString());
    }

    [Fact]
    public void A_changed_config_map_is_sent_again_to_the_nodes_whose_pods_use_it()
    {
        Seed(ConfigMap("settings"));
        var (_, agent) = Registered("node1");
        Seed(PodUsingConfig("web-1", "node1"));
        agent.FishForMessage<PodConfigChanged>(m => m.ConfigMaps.Count == 1);

        var changed = Find<V1ConfigMap>("settings")!;
        changed.Data["a"] = "2";
        Write(new UpdateObject("configmaps", changed));

        agent.FishForMessage<PodConfigChanged>(m => m.ConfigMaps.Any(c => c.Data["a"] == "2"));
        agent.ExpectMsg<DesiredPodsChanged>();

        Seed(Secret("db")); // created after the pod: it reaches the node too
        agent.FishForMessage<PodConfigChanged>(m => m.Secrets.Any(s => s.Metadata.Name == "db"));
    }

    [Fact]
    public void A_pod_on_another_node_is_not_sent()
    {
        var (_, agent) = Registered("node1");
        agent.FishForMessage<ServicesChanged>(_ => true);

        var pod = Seed(Pod("elsewhere", App("web")));
        pod.Spec.NodeName = "node2";
        Write(new UpdateObject("pods", pod));

        agent.ExpectNo<DesiredPodsChanged>(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public void Reported_pod_status_is_written_keeping_the_scheduled_condition()
    {
        var (gateway, agent) = Registered("node1");
        var pod = Seed(Pod("web-1", App("web"), nodeName: "node1"));
        var scheduled = Find<V1Pod>("web-1")!;
        scheduled.Status.Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "True" }];
        Write(new UpdateObject("pods", scheduled, "status"));
        agent.FishForMessage<DesiredPodsChanged>(m => m.Pods.Count == 1);

        var reported = new V1PodStatus
        {
            Phase = "Running", PodIP = "172.18.0.2",
            Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }],
        };
        gateway.Tell(new PodStatusReported("node1", "default", "web-1", "some-other-uid", new V1PodStatus { Phase = "Failed" }), agent.Ref);
        gateway.Tell(new PodStatusReported("node1", "default", "web-1", pod.Metadata.Uid, reported), agent.Ref);

        AwaitAssert(() =>
        {
            var status = Find<V1Pod>("web-1")!.Status;
            Assert.Equal(("Running", "172.18.0.2"), (status.Phase, status.PodIP));
            Assert.Equal(["PodScheduled", "Ready"], status.Conditions.Select(c => c.Type).Order());
        });
    }

    /// <summary>The pod status writes of a batch the gateway sends the store, as (pod name, phase, resourceVersion it
    /// was merged over); none for any other request.</summary>
    private static List<(string Pod, string? Phase, string? Version)> StatusWrites(object message) =>
        message is WriteObjects batch
            ? batch.Requests.OfType<UpdateObject>().Where(u => u is { Subresource: "status", Resource: "pods" })
                .Select(u => (Pod: u.Object.Metadata.Name, ((V1Pod)u.Object).Status?.Phase, Version: (string?)u.Object.Metadata.ResourceVersion)).ToList()
            : [];

    /// <summary>In front of the store: answers the first <paramref name="refused"/> batches of pod status writes 429
    /// (every answer, as a store whose write queue is full answers a batch), tells <paramref name="seen"/> of each batch
    /// of them, and forwards everything else.</summary>
    private sealed class RefusingStatusWrites : ReceiveActor
    {
        public RefusingStatusWrites(IActorRef store, int refused, IActorRef? seen = null)
        {
            ReceiveAny(message =>
            {
                var writes = StatusWrites(message);
                if (writes.Count > 0) seen?.Tell(writes);
                if (writes.Count > 0 && refused-- > 0)
                    Sender.Tell(new ObjectsWritten(((WriteObjects)message).Requests.Select(_ => (object)new StoreFailed(StoreErrors.TooManyRequests())).ToList()));
                else store.Forward(message);
            });
        }
    }

    /// <summary>In front of the store: tells <paramref name="seen"/> of each batch of pod status writes and holds it until
    /// told <see cref="Release"/> (then stores it, the gateway's call answered by the store), as a store busy with a
    /// long journal write does; forwards everything else.</summary>
    private sealed class HoldingStatusWrites : ReceiveActor
    {
        public sealed record Release;

        public HoldingStatusWrites(IActorRef store, IActorRef seen)
        {
            var held = new Queue<(object Message, IActorRef Sender)>();
            Receive<Release>(_ =>
            {
                var (message, sender) = held.Dequeue();
                store.Tell(message, sender);
            });
            ReceiveAny(message =>
            {
                var writes = StatusWrites(message);
                if (writes.Count == 0)
                {
                    store.Forward(message);
                    return;
                }
                held.Enqueue((message, Sender));
                seen.Tell(writes);
            });
        }
    }

    /// <summary>In front of the store: just before the gateway's first batch of pod status writes, another writer (a
    /// preemption) sets the DisruptionTarget condition of <paramref name="victim"/>, so the gateway's write of it is
    /// merged with a status that is no longer stored.</summary>
    private sealed class PreemptingBeforeStatusWrite : ReceiveActor
    {
        public PreemptingBeforeStatusWrite(IActorRef store, string victim = "web-1")
        {
            var preempted = false;
            ReceiveAny(message =>
            {
                if (StatusWrites(message).Any(w => w.Pod == victim) && !preempted)
                {
                    preempted = true;
                    var current = (V1Pod)store.Ask<ObjectStored>(new GetObject(new ResourceKey("pods", "default", victim))).Result.Object;
                    var marked = KubeObjects.Clone(current);
                    marked.Status.Conditions = (marked.Status.Conditions ?? []).Append(new V1PodCondition { Type = "DisruptionTarget", Status = "True", Reason = "PreemptionByScheduler" }).ToList();
                    store.Ask<ObjectStored>(new UpdateObject("pods", marked, "status")).Wait();
                }
                store.Forward(message);
            });
        }
    }

    [Fact]
    public void A_pod_status_report_does_not_undo_a_condition_written_while_the_gateway_merged_it()
    {
        var seen = CreateTestProbe("seen");
        var holding = Sys.ActorOf(Props.Create(() => new HoldingStatusWrites(Store, seen.Ref)));
        var (gateway, agent) = Registered("node1", Sys.ActorOf(Props.Create(() => new PreemptingBeforeStatusWrite(holding, "web-1"))));
        var pod = Seed(Pod("web-1", App("web"), nodeName: "node1"));
        var other = Seed(Pod("web-2", App("web"), nodeName: "node1"));
        agent.FishForMessage<DesiredPodsChanged>(m => m.Pods.Count == 2);
        var running = new V1PodStatus { Phase = "Running", Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }] };

        // both in one batch (the first holds a third pod's write back until both have come)
        var third = Seed(Pod("web-3", App("web"), nodeName: "node1"));
        agent.FishForMessage<DesiredPodsChanged>(m => m.Pods.Count == 3);
        gateway.Tell(new PodStatusReported("node1", "default", "web-3", third.Metadata.Uid, running), agent.Ref);
        Assert.Equal(["web-3"], seen.ExpectMsg<List<(string Pod, string? Phase, string? Version)>>().Select(w => w.Pod));
        gateway.Tell(new PodStatusReported("node1", "default", "web-1", pod.Metadata.Uid, running), agent.Ref);
        gateway.Tell(new PodStatusReported("node1", "default", "web-2", other.Metadata.Uid, running), agent.Ref);
        // The gateway hands both to its writer before it answers this, so both wait there when web-3's answer comes.
        gateway.Ask<ActorIdentity>(new Identify(null), RemainingOrDefault).Wait();
        holding.Tell(new HoldingStatusWrites.Release());
        Assert.Equal(["web-1", "web-2"], seen.ExpectMsg<List<(string Pod, string? Phase, string? Version)>>().Select(w => w.Pod));
        holding.Tell(new HoldingStatusWrites.Release());

        // web-1's write met the preemption's version (409): merged again and written alone; web-2's was stored at once
        Assert.Equal(["web-1"], seen.ExpectMsg<List<(string Pod, string? Phase, string? Version)>>().Select(w => w.Pod));
        Assert.Equal("Running", Find<V1Pod>("web-2")!.Status?.Phase);
        holding.Tell(new HoldingStatusWrites.Release());
        AwaitAssert(() =>
        {
            var status = Find<V1Pod>("web-1")!.Status;
            Assert.Equal("Running", status?.Phase);
            Assert.Equal(["DisruptionTarget", "Ready"], status!.Conditions.Select(c => c.Type).Order());
        }, TimeSpan.FromSeconds(10));
        seen.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_pod_with_a_readiness_gate_is_Ready_only_once_its_condition_is_True()
    {
        var (gateway, agent) = Registered("node1");
        var gated = Pod("web-1", App("web"), nodeName: "node1");
        gated.Spec.ReadinessGates = [new V1PodReadinessGate { ConditionType = "example.com/lb-ready" }];
        var pod = Seed(gated);
        agent.FishForMessage<DesiredPodsChanged>(m => m.Pods.Count == 1);

        gateway.Tell(new PodStatusReported("node1", "default", "web-1", pod.Metadata.Uid, new V1PodStatus
        {
            Phase = "Running",
            Conditions = [new V1PodCondition { Type = "ContainersReady", Status = "True" }, new V1PodCondition { Type = "Ready", Status = "True" }],
        }), agent.Ref);
        AwaitAssert(() =>
        {
            var ready = Find<V1Pod>("web-1")!.Status?.Conditions?.SingleOrDefault(c => c.Type == "Ready");
            Assert.Equal(("False", "ReadinessGatesNotReady", "corresponding condition of pod readiness gate \"example.com/lb-ready\" does not exist."),
                (ready?.Status, ready?.Reason, ready?.Message));
        }, TimeSpan.FromSeconds(10));

        // the gate's controller writes its condition
        var stored = KubeObjects.Clone(Find<V1Pod>("web-1")!);
        stored.Status.Conditions.Add(new V1PodCondition { Type = "example.com/lb-ready", Status = "True" });
        Write(new UpdateObject("pods", stored, "status"));
        AwaitAssert(() => Assert.Equal("True", Find<V1Pod>("web-1")!.Status.Conditions.Single(c => c.Type == "Ready").Status),
            TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_pod_status_write_the_store_refuses_with_429_is_written_again()
    {
        var (gateway, agent) = Registered("node1", Sys.ActorOf(Props.Create(() => new RefusingStatusWrites(Store, 2, null))));
        var pod = Seed(Pod("web-1", App("web"), nodeName: "node1"));
        agent.FishForMessage<DesiredPodsChanged>(m => m.Pods.Count == 1);

        // reported once, as a node does: it does not report an unchanged status again
        gateway.Tell(new PodStatusReported("node1", "default", "web-1", pod.Metadata.Uid,
            new V1PodStatus { Phase = "Running", PodIP = "172.18.0.2" }), agent.Ref);

        AwaitAssert(() => Assert.Equal("Running", Find<V1Pod>("web-1")!.Status?.Phase), TimeSpan.FromSeconds(10));
    }

    private List<V1Pod> SeedPods(string node, int count, string prefix = "web") =>
        Enumerable.Range(1, count).Select(i => Seed(Pod($"{prefix}-{i}", App(prefix), nodeName: node))).ToList();

    [Fact]
    public void Reports_that_arrive_while_a_batch_is_stored_go_in_one_batch_each_pod_in_its_order_written_over_its_last_write()
    {
        var seen = CreateTestProbe("seen");
        var holding = Sys.ActorOf(Props.Create(() => new HoldingStatusWrites(Store, seen.Ref)));
        var (gateway, agent) = Registered("node1", holding);
        var pods = SeedPods("node1", 3);
        agent.FishForMessage<DesiredPodsChanged>(m => m.Pods.Count == 3);
        PodStatusReported Report(int pod, string phase, string ip) =>
            new("node1", "default", pods[pod].Metadata.Name, pods[pod].Metadata.Uid, new V1PodStatus { Phase = phase, PodIP = ip });

        gateway.Tell(Report(0, "Pending", "10.0.0.1"), agent.Ref);
        var first = Assert.Single(seen.ExpectMsg<List<(string Pod, string? Phase, string? Version)>>());
        Assert.Equal(("web-1", "Pending"), (first.Pod, first.Phase));

        // while the first is with the store: web-1 twice more, web-2 and web-3 — no second batch yet
        gateway.Tell(Report(0, "Running", "10.0.0.2"), agent.Ref);
        gateway.Tell(Report(1, "Running", "10.0.0.3"), agent.Ref);
        gateway.Tell(Report(0, "Succeeded", "10.0.0.2"), agent.Ref);
        gateway.Tell(Report(2, "Running", "10.0.0.4"), agent.Ref);
        seen.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        holding.Tell(new HoldingStatusWrites.Release());

        // web-2 and web-3 in one batch; web-1's newest report (not the one in between) once its first write was
        // answered, in the batch after, merged over the version that write stored — no conflict
        Assert.Equal([("web-2", "Running"), ("web-3", "Running")], seen.ExpectMsg<List<(string Pod, string? Phase, string? Version)>>().Select(w => (w.Pod, w.Phase)));
        holding.Tell(new HoldingStatusWrites.Release());
        var third = Assert.Single(seen.ExpectMsg<List<(string Pod, string? Phase, string? Version)>>());
        Assert.Equal(("web-1", "Succeeded"), (third.Pod, third.Phase));
        Assert.Equal(Find<V1Pod>("web-1")!.Metadata.ResourceVersion, third.Version); // the first write's, stored meanwhile
        Assert.Equal("Pending", Find<V1Pod>("web-1")!.Status.Phase);
        holding.Tell(new HoldingStatusWrites.Release());

        AwaitAssert(() => Assert.Equal(["Succeeded", "Running", "Running"], pods.Select(p => Find<V1Pod>(p.Metadata.Name)!.Status?.Phase)));
        seen.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Every_pods_last_report_is_stored_when_many_nodes_report_at_once()
    {
        var gateway = Sys.ActorOf(NodeGateway.Props(Store));
        var nodes = Enumerable.Range(1, 4).Select(n => $"node{n}").ToList();
        var agents = nodes.ToDictionary(n => n, n =>
        {
            var agent = CreateTestProbe("agent-" + n);
            gateway.Tell(new RegisterNode(Reported(n)), agent.Ref);
            agent.ExpectMsg<NodeRegistered>();
            return agent;
        });
        var pods = nodes.SelectMany(n => SeedPods(n, 25, "p" + n)).ToList();

        // each pod reported three times in a row, the pods of the nodes interleaved
        foreach (var phase in new[] { "Pending", "Running", "Succeeded" })
            foreach (var pod in pods)
                gateway.Tell(new PodStatusReported(pod.Spec.NodeName, "default", pod.Metadata.Name, pod.Metadata.Uid,
                    new V1PodStatus { Phase = phase, PodIP = phase == "Pending" ? null : "10.0.0.9" }), agents[pod.Spec.NodeName].Ref);

        AwaitAssert(() => Assert.All(All<V1Pod>(), p => Assert.Equal("Succeeded", p.Status?.Phase)), TimeSpan.FromSeconds(20));
        Assert.Equal(100, All<V1Pod>().Count);
        // batched: far fewer store writes than reports (300)
        var batches = Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1), m => m, int.MaxValue)
            .Count(m => StatusWrites(m).Count > 0);
        Assert.InRange(batches, 1, 99); // fewer than the pods: several pods' reports in one batch
    }

    [Fact]
    public void After_a_batch_refused_for_a_full_queue_the_next_waits_and_carries_the_refused_reports_first()
    {
        var seen = CreateTestProbe("seen");
        var (gateway, agent) = Registered("node1", Sys.ActorOf(Props.Create(() => new RefusingStatusWrites(Store, 1, seen.Ref))));
        var pods = SeedPods("node1", 3);
        agent.FishForMessage<DesiredPodsChanged>(m => m.Pods.Count == 3);
        PodStatusReported Report(int pod, string phase) =>
            new("node1", "default", pods[pod].Metadata.Name, pods[pod].Metadata.Uid, new V1PodStatus { Phase = phase });

        gateway.Tell(Report(0, "Running"), agent.Ref);
        Assert.Equal(["web-1"], seen.ExpectMsg<List<(string Pod, string? Phase, string? Version)>>().Select(w => w.Pod)); // refused
        // reports after the refusal wait with it (backpressure: no batch at once); web-2's second waits for its first
        gateway.Tell(Report(1, "Running"), agent.Ref);
        gateway.Tell(Report(2, "Running"), agent.Ref);
        gateway.Tell(Report(1, "Succeeded"), agent.Ref);
        seen.ExpectNoMsg(TimeSpan.FromMilliseconds(500));

        var next = seen.ExpectMsg<List<(string Pod, string? Phase, string? Version)>>(TimeSpan.FromSeconds(10));
        Assert.Equal([("web-1", "Running"), ("web-2", "Running"), ("web-3", "Running")], next.Select(w => (w.Pod, w.Phase)));
        Assert.Equal([("web-2", "Succeeded")], seen.ExpectMsg<List<(string Pod, string? Phase, string? Version)>>().Select(w => (w.Pod, w.Phase)));
        AwaitAssert(() => Assert.Equal(["Running", "Succeeded", "Running"], pods.Select(p => Find<V1Pod>(p.Metadata.Name)!.Status?.Phase)));
    }

    [Fact]
    public void A_gracefully_deleted_pod_is_sent_marked_and_removed_when_the_node_reports_it_stopped()
    {
        var (gateway, agent) = Registered("node1");
        var pod = Seed(Pod("web-1", App("web"), nodeName: "node1"));
        agent.FishForMessage<DesiredPodsChanged>(m => m.Pods.Count == 1);
        Write(new DeleteObject(new ResourceKey("pods", "default", "web-1"), GracePeriodSeconds: 30));
        agent.FishForMessage<DesiredPodsChanged>(m => m.Pods.Count == 1 && m.Pods[0].Metadata.DeletionTimestamp is not null);

        var running = new V1PodStatus { ContainerStatuses = [new V1ContainerStatus { Name = "web", State = new V1ContainerState { Running = new V1ContainerStateRunning() } }] };
        gateway.Tell(new PodStatusReported("node1", "default", "web-1", pod.Metadata.Uid, running), agent.Ref);
        AwaitAssert(() => Assert.Equal("web", Find<V1Pod>("web-1")?.Status?.ContainerStatuses?.Single().Name));

        var stopped = new V1PodStatus { ContainerStatuses = [new V1ContainerStatus { Name = "web", State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 143 } } }] };
        gateway.Tell(new PodStatusReported("node1", "default", "web-1", pod.Metadata.Uid, stopped), agent.Ref);
        AwaitAssert(() => Assert.Null(Find<V1Pod>("web-1")));
    }

    [Fact]
    public void Re_registration_keeps_the_node_cordoned()
    {
        var cordoned = Node("node1", unschedulable: true);
        Seed(cordoned);
        Registered("node1");

        AwaitAssert(() =>
        {
            var node = Find<V1Node>("node1")!;
            Assert.Equal("node1", node.Metadata.Labels["kubernetes.io/hostname"]);
            Assert.True(node.Spec.Unschedulable);
        });
    }

    [Fact]
    public void Re_registration_keeps_a_cordon_written_between_its_read_and_its_write()
    {
        Seed(Node("node1"));
        Registered("node1", Sys.ActorOf(Props.Create(() => new CordoningBeforeRegistrationWrite(Store))));

        AwaitAssert(() =>
        {
            var node = Find<V1Node>("node1")!;
            Assert.Equal("node1", node.Metadata.Labels["kubernetes.io/hostname"]); // the merge was written, read again
            Assert.True(node.Spec.Unschedulable); // and the cordon it conflicted with kept
        });
    }

    /// <summary>In front of the store: before the first write of a Node's labels and spec (a registration's), cordons
    /// that Node in the store, as a kubectl cordon landing between the gateway's read and its write would; forwards
    /// everything else.</summary>
    private sealed class CordoningBeforeRegistrationWrite : ReceiveActor
    {
        public CordoningBeforeRegistrationWrite(IActorRef store)
        {
            var cordoned = false;
            ReceiveAsync<UpdateObject>(u => !cordoned && u.Resource == "nodes" && u.Subresource is null, async update =>
            {
                cordoned = true;
                var sender = Sender;
                var current = KubeObjects.Clone((V1Node)((ObjectStored)await store.Ask<object>(
                    new GetObject(new ResourceKey("nodes", null, update.Object.Metadata.Name)), TimeSpan.FromSeconds(5))).Object);
                current.Spec ??= new V1NodeSpec();
                current.Spec.Unschedulable = true;
                // without a precondition, as kubectl cordon's patch: the gateway's status write may land after the read
                current.Metadata.ResourceVersion = null;
                Assert.IsType<ObjectStored>(await store.Ask<object>(new UpdateObject("nodes", current), TimeSpan.FromSeconds(5)));
                store.Tell(update, sender);
            });
            ReceiveAny(message => store.Forward(message));
        }
    }

    [Fact]
    public void A_service_change_is_sent_to_every_agent()
    {
        var (_, agent) = Registered("node1");
        agent.FishForMessage<ServicesChanged>(_ => true);

        Seed(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web-svc", NamespaceProperty = "default" },
            Spec = new V1ServiceSpec { Selector = App("web"), Ports = [new V1ServicePort { Port = 80 }] },
        });

        agent.FishForMessage<ServicesChanged>(m => m.Services.Any(s => s.Metadata.Name == "web-svc"));
    }

    [Fact]
    public void Every_nodes_pod_range_goes_to_every_agent_with_the_services_when_a_node_gets_one()
    {
        var (_, agent) = Registered("node1");
        agent.FishForMessage<ServicesChanged>(_ => true);

        // another node's proxy may accept a ClusterIP connection of this node's pods (internalTrafficPolicy Local)
        Seed(new V1Node { Metadata = new V1ObjectMeta { Name = "node2" }, Spec = new V1NodeSpec { PodCIDR = "172.28.2.0/24" } });

        var services = agent.FishForMessage<ServicesChanged>(m => m.PodRanges?.Any(r => r.Node == "node2") == true);
        Assert.Equal(new NodePodRange("node2", "172.28.2.0/24"), services.PodRanges!.Single(r => r.Node == "node2"));
    }

    [Fact]
    public void Every_nodes_zone_goes_to_every_agent_with_the_services_when_a_node_gets_one()
    {
        var (_, agent) = Registered("node1");
        agent.FishForMessage<ServicesChanged>(_ => true);

        // the proxies follow EndpointSlice zone hints by the (client's) node's zone
        var node2 = Seed(new V1Node { Metadata = new V1ObjectMeta { Name = "node2" }, Spec = new V1NodeSpec { PodCIDR = "172.28.2.0/24" } });
        agent.FishForMessage<ServicesChanged>(m => m.PodRanges?.Any(r => r.Node == "node2") == true);
        var labelled = KubeObjects.Clone(node2);
        labelled.Metadata.Labels = new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = "zone-b" };
        Write(new UpdateObject("nodes", labelled));

        var services = agent.FishForMessage<ServicesChanged>(m => m.NodeZones?.Any(z => z.Node == "node2") == true);
        Assert.Equal(new NodeZone("node2", "zone-b"), services.NodeZones!.Single(z => z.Node == "node2"));
    }

    [Fact]
    public void Network_policies_go_to_every_agent_with_the_pods_and_namespaces_their_selectors_read()
    {
        var (_, agent) = Registered("node1");
        var first = agent.FishForMessage<NetworkPoliciesChanged>(_ => true);
        Assert.Empty(first.Policies);
        Assert.Empty(first.Pods); // no policy: no pod churn for the nodes

        Seed(Pod("web-1", App("web"), nodeName: "node2", phase: "Running", podIp: "172.28.0.9", ports: new V1ContainerPort { Name = "http", ContainerPort = 8080 }));
        Seed(new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1", Kind = "NetworkPolicy",
            Metadata = new V1ObjectMeta { Name = "deny", NamespaceProperty = "default" },
            Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector(), PolicyTypes = ["Ingress"] },
        });

        var sent = agent.FishForMessage<NetworkPoliciesChanged>(m => m.Policies.Count == 1);
        var web = Assert.Single(sent.Pods);
        Assert.Equal(("default", "web-1", "172.28.0.9"), (web.Namespace, web.Name, web.Ip));
        Assert.Equal([new PolicyPodPort("http", 8080, "TCP")], web.Ports!);
    }

    [Fact]
    public void Node_events_are_recorded()
    {
        var (gateway, agent) = Registered("node1");
        gateway.Tell(new NodeEventReported("node1", new Corev1Event
        {
            InvolvedObject = new V1ObjectReference { Kind = "Pod", Name = "web-1", NamespaceProperty = "default" },
            Reason = "Failed", Message = "Failed to pull image \"nope\": ErrImagePull", Type = "Warning",
        }), agent.Ref);

        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "Failed" && e.Metadata.Name.StartsWith("web-1.")
            && e.Source.Host == "node1"));
    }

    [Fact]
    public void A_node_speaks_only_for_itself()
    {
        var (gateway, agent1) = Registered("node1");
        var agent2 = CreateTestProbe("agent2");
        gateway.Tell(new RegisterNode(Reported("node2")), agent2.Ref);
        agent2.ExpectMsg<NodeRegistered>(r => Assert.Equal("node2", r.NodeName));
        var pod = Seed(Pod("web-1", App("web"), nodeName: "node1"));
        agent1.FishForMessage<DesiredPodsChanged>(m => m.Pods.Count == 1);

        // node2's agent takes node1's name, reports on node1's pod, speaks in node1's name and about node1
        gateway.Tell(new RegisterNode(Reported("node1")), agent2.Ref);
        gateway.Tell(new PodStatusReported("node1", "default", "web-1", pod.Metadata.Uid, new V1PodStatus { Phase = "Failed" }), agent2.Ref);
        gateway.Tell(new PodStatusReported("node2", "default", "web-1", pod.Metadata.Uid, new V1PodStatus { Phase = "Failed" }), agent2.Ref);
        gateway.Tell(new NodeEventReported("node1", new Corev1Event { InvolvedObject = new V1ObjectReference { Kind = "Node", Name = "node1" }, Reason = "Forged1" }), agent2.Ref);
        gateway.Tell(new NodeEventReported("node2", new Corev1Event { InvolvedObject = new V1ObjectReference { Kind = "Node", Name = "node1" }, Reason = "Forged2" }), agent2.Ref);
        gateway.Tell(new NodeEventReported("node2", new Corev1Event
        {
            InvolvedObject = new V1ObjectReference { Kind = "Pod", Name = "web-1", NamespaceProperty = "default" }, Reason = "Forged3",
        }), agent2.Ref);
        gateway.Tell(new NodeEventReported("node2", new Corev1Event { InvolvedObject = new V1ObjectReference { Kind = "Node", Name = "node2" }, Reason = "Own" }), agent2.Ref);

        agent2.ExpectNo<NodeRegistered>(TimeSpan.FromMilliseconds(300));
        // the gateway writes in the order it receives: once node2's own event is stored, nothing before it was written
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "Own"));
        Assert.DoesNotContain(All<Corev1Event>(), e => e.Reason.StartsWith("Forged"));
        Assert.NotEqual("Failed", Find<V1Pod>("web-1")!.Status?.Phase);
        Assert.Equal("node1", Find<V1Node>("node1")!.Metadata.Name);
    }
}
