using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.ControlLoop;

/// <summary>The work queue every controller shares: keys reconciled in the order they were first marked, and, when a
/// controller bounds its slice, the messages that came meanwhile handled between slices.</summary>
public sealed class ControllerActorTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private sealed record Marker;

    /// <summary>Marks every ConfigMap on sync, last name first; tells the probe each key it reconciles, and on the first
    /// one sends itself a <see cref="Marker"/>, told to the probe when handled.</summary>
    private sealed class RecordingController : ControllerActor
    {
        private readonly IActorRef _probe;
        private readonly int _slice;
        private bool _marked;

        public RecordingController(IActorRef store, IActorRef probe, int slice) : base(store, ["configmaps"], TimeSpan.Zero)
        {
            _probe = probe;
            _slice = slice;
            Receive<Marker>(_ => _probe.Tell("marker"));
        }

        protected override int DrainSlice => _slice;

        protected override IEnumerable<ResourceKey> AllKeys() =>
            Cache.Keys("configmaps").OrderByDescending(k => k.Name, StringComparer.Ordinal).ToList();

        protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
        {
        }

        protected override void Reconcile(ResourceKey key)
        {
            if (!_marked)
            {
                _marked = true;
                Self.Tell(new Marker());
            }
            _probe.Tell(key.Name);
        }
    }

    [Theory]
    [InlineData(3, "c7 c6 c5 marker c4 c3 c2 c1")] // a slice of 3: the message sent from the first slice comes before the second
    [InlineData(int.MaxValue, "c7 c6 c5 c4 c3 c2 c1 marker")] // unbounded: the whole queue in one message
    public void Keys_are_reconciled_first_marked_first_a_slice_per_message(int slice, string expected)
    {
        for (var i = 1; i <= 7; i++)
            Seed(new V1ConfigMap { ApiVersion = "v1", Kind = "ConfigMap", Metadata = new V1ObjectMeta { Name = $"c{i}", NamespaceProperty = "default" } });
        var probe = CreateTestProbe();
        Sys.ActorOf(Akka.Actor.Props.Create(() => new RecordingController(Store, probe, slice)));

        var seen = Enumerable.Range(0, 8).Select(_ => probe.ExpectMsg<string>(TimeSpan.FromSeconds(30))).ToList();
        Assert.Equal(expected, string.Join(' ', seen));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }
}
