using Akka.Actor;
using Akka.TestKit;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Orchestrator.Shared.Api;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class ResourceQuotaControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private static V1Pod Pod(string name) => new()
    {
        ApiVersion = "v1", Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "i" }] },
    };

    private static Dictionary<string, ResourceQuantity> Pods(int count) => new() { ["pods"] = new ResourceQuantity(count.ToString()) };

    private string? UsedPods() => Find<V1ResourceQuota>("q")?.Status?.Used is { } used && used.TryGetValue("pods", out var pods) ? pods.ToString() : null;

    /// <summary>
    /// Each resource's feed reaches the controller on its own, so the quota's charge for new pods can arrive before the
    /// pods do. A count from the cache at that moment would release what is still used (and let a ReplicaSet create
    /// past the quota, as CI once saw); the controller must count what the store holds instead.
    /// </summary>
    [Fact]
    public void A_charge_that_arrives_before_the_pods_it_counts_is_not_released()
    {
        Seed(new V1ResourceQuota
        {
            Metadata = new V1ObjectMeta { Name = "q", NamespaceProperty = "default" },
            Spec = new V1ResourceQuotaSpec { Hard = Pods(2) },
            Status = new V1ResourceQuotaStatus { Hard = Pods(2), Used = Pods(0) },
        });
        var seen = CreateTestProbe();
        var gate = Sys.ActorOf(Props.Create(() => new PodFeedGate(Store, seen)));
        Sys.ActorOf(ResourceQuotaController.Props(gate, Resync, Catalog));
        seen.FishForMessage(m => m is WatchObjects { Resource: "pods" });

        // What the quota admission does with a ReplicaSet's two creates: the pods and the quota's charge.
        Seed(Pod("p1"));
        Seed(Pod("p2"));
        var charged = KubeObjects.Clone(Find<V1ResourceQuota>("q")!);
        charged.Status!.Used = Pods(2);
        Write(new UpdateObject("resourcequotas", charged, "status"));

        // The controller acts on the charge (a recount, or a write from its stale cache) while the pods are held back.
        seen.FishForMessage(m => m is ListObjects { Resource: "pods" } or UpdateObject { Resource: "resourcequotas" });
        gate.Tell(PodFeedGate.Open.Instance);

        Write(new DeleteObject(new ResourceKey("pods", "default", "p1")));
        AwaitAssert(() => Assert.Equal("1", UsedPods()));
        var statusWrites = Writes.ReceiveWhile(TimeSpan.FromMilliseconds(100), m => m).OfType<UpdateObject>()
            .Where(u => u.Resource == "resourcequotas").Select(u => ((V1ResourceQuota)u.Object).Status!.Used!["pods"].ToString())
            .SkipWhile(used => used != "2"); // the seeded status, then the charge
        Assert.DoesNotContain("0", statusWrites);
    }

    /// <summary>Stands between the controller and the store: holds the pods' changes back until told to open, and
    /// tells a probe what the controller asks of the store.</summary>
    private sealed class PodFeedGate : ReceiveActor
    {
        public sealed record Open
        {
            public static readonly Open Instance = new();
        }

        private readonly List<(IActorRef To, object Message)> _held = new();
        private bool _open;

        public PodFeedGate(IActorRef store, IActorRef seen)
        {
            Receive<Open>(_ =>
            {
                _open = true;
                foreach (var (to, message) in _held) to.Tell(message);
                _held.Clear();
            });
            Receive<Held>(held =>
            {
                if (_open) held.To.Tell(held.Message);
                else _held.Add((held.To, held.Message));
            });
            Receive<WatchObjects>(watch =>
            {
                seen.Tell(watch);
                if (watch.Resource != "pods")
                {
                    store.Forward(watch);
                    return;
                }
                var relay = Context.ActorOf(Props.Create(() => new Relay(Self, watch.Subscriber)));
                store.Tell(watch with { Subscriber = relay }, watch.Subscriber);
            });
            ReceiveAny(message =>
            {
                seen.Tell(message);
                store.Forward(message);
            });
        }

        private sealed record Held(IActorRef To, object Message);

        private sealed class Relay : ReceiveActor
        {
            public Relay(IActorRef gate, IActorRef subscriber) =>
                ReceiveAny(message => gate.Tell(new Held(subscriber, message)));
        }
    }
}
