using Orchestrator.Master.Registry;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Master.Tests.Store.Support;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>The store when its journal fails and comes back: nothing unstored is acknowledged, reads and watches
/// go on, and writes resume without restarting the store.</summary>
public sealed class ObjectStoreJournalFailureSpec : TestKit
{
    private readonly StoreHealth _health = new();
    private readonly IActorRef _store;

    // Faults are kept per actor system name, so each test has its own.
    public ObjectStoreJournalFailureSpec() : base(FlakyJournal.Hocon + StoreRecordSerializer.Hocon + "akka.loglevel = OFF\n",
        "flaky-" + Guid.NewGuid().ToString("N")[..8])
    {
        _store = Sys.ActorOf(ObjectStore.Props(RegistryHosting.BuiltInCatalog(), new ObjectStoreSettings(WriterBackoffMin: TimeSpan.FromMilliseconds(50),
            WriterBackoffMax: TimeSpan.FromMilliseconds(200)), _health), ObjectStore.ActorName);
        AwaitCondition(() => _health.Ready, TimeSpan.FromSeconds(10));
    }

    private object Ask(object command)
    {
        _store.Tell(command);
        return ExpectMsg<object>(TimeSpan.FromSeconds(5));
    }

    private StoreError Refused(object command) => Assert.IsType<StoreFailed>(Ask(command)).Error;

    private long ResourceVersion() => Assert.IsType<ObjectsListed>(Ask(new ListObjects("configmaps"))).ResourceVersion;

    [Fact]
    public void A_write_the_journal_refuses_is_answered_500_and_not_applied()
    {
        var before = ResourceVersion();
        FlakyJournal.Set(Sys, JournalFault.Refuse);

        var error = Refused(new CreateObject("configmaps", Objects.ConfigMap("lost")));

        Assert.Equal(500, error.Code);
        Assert.Equal("InternalError", error.Reason);
        Assert.Equal("Internal error occurred: the object store could not write to its journal: No space left on device (test)", error.Message);
        Assert.Equal(404, Refused(new GetObject(new ResourceKey("configmaps", "default", "lost"))).Code);
        Assert.Equal(before, ResourceVersion());
    }

    [Fact]
    public void While_the_journal_is_down_writes_get_503_reads_go_on_and_writes_resume_when_it_is_back()
    {
        Assert.IsType<ObjectStored>(Ask(new CreateObject("configmaps", Objects.ConfigMap("kept"))));
        var watcher = CreateTestProbe();
        _store.Tell(new WatchObjects("configmaps", "default", null, watcher), watcher);
        watcher.ExpectMsg<WatchStarted>();

        FlakyJournal.Set(Sys, JournalFault.Refuse);
        Assert.Equal(500, Refused(new CreateObject("configmaps", Objects.ConfigMap("first"))).Code);
        var unavailable = Refused(new CreateObject("configmaps", Objects.ConfigMap("second")));
        Assert.Equal(503, unavailable.Code);
        Assert.Equal("ServiceUnavailable", unavailable.Reason);
        Assert.Contains("No space left on device (test)", unavailable.Message);
        Assert.Equal(503, Refused(new DeleteObject(new ResourceKey("configmaps", "default", "kept"))).Code);
        Assert.StartsWith("the journal cannot be written: No space left on device", _health.NotReadyReason);

        // Reads are served from memory all the while, dry runs too.
        Assert.IsType<ObjectStored>(Ask(new GetObject(new ResourceKey("configmaps", "default", "kept"))));
        Assert.Single(Assert.IsType<ObjectsListed>(Ask(new ListObjects("configmaps", "default"))).Items);
        Assert.IsType<ObjectStored>(Ask(new CreateObject("configmaps", Objects.ConfigMap("dry"), DryRun: true)));

        FlakyJournal.Set(Sys, JournalFault.None);
        AwaitCondition(() => _health.Ready, TimeSpan.FromSeconds(10));
        var created = Assert.IsType<ObjectStored>(Ask(new CreateObject("configmaps", Objects.ConfigMap("after")))).Object;

        // The same watch, never restarted, sees the write after the outage and nothing of the refused ones.
        var change = watcher.ExpectMsg<ObjectChanged>();
        Assert.Equal(("ADDED", "after"), (change.Type, change.Object.Metadata.Name));
        Assert.Equal(created.Metadata.ResourceVersion, change.ResourceVersion.ToString());
        watcher.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_write_that_reached_the_journal_although_it_failed_is_applied_when_the_new_writer_reads_it_back()
    {
        var watcher = CreateTestProbe();
        _store.Tell(new WatchObjects("configmaps", "default", null, watcher), watcher);
        watcher.ExpectMsg<WatchStarted>();

        FlakyJournal.Set(Sys, JournalFault.StoreThenFail);
        Assert.Equal(500, Refused(new CreateObject("configmaps", Objects.ConfigMap("landed"))).Code);
        FlakyJournal.Set(Sys, JournalFault.None);
        AwaitCondition(() => _health.Ready, TimeSpan.FromSeconds(10));

        // The store's state follows the journal, not the answer: what is stored is there, once, in order.
        var change = watcher.ExpectMsg<ObjectChanged>();
        Assert.Equal(("ADDED", "landed"), (change.Type, change.Object.Metadata.Name));
        var stored = Assert.IsType<ObjectStored>(Ask(new GetObject(new ResourceKey("configmaps", "default", "landed")))).Object;
        Assert.Equal(change.ResourceVersion.ToString(), stored.Metadata.ResourceVersion);
        var next = Assert.IsType<ObjectStored>(Ask(new CreateObject("configmaps", Objects.ConfigMap("next")))).Object;
        Assert.True(long.Parse(next.Metadata.ResourceVersion) > change.ResourceVersion);
    }

    /// <summary>Writes one record as the journal's persistence id, before any store exists.</summary>
    private sealed class Planter : Akka.Persistence.ReceivePersistentActor
    {
        public override string PersistenceId => JournalCheck.PersistenceId;

        public Planter(IStoreRecord record, IActorRef done)
        {
            Command<string>(_ => Persist(record, _ => done.Tell("planted")));
        }
    }

    [Fact]
    public async Task A_journal_record_that_cannot_be_applied_fails_the_store_for_good_naming_the_record()
    {
        using var system = ActorSystem.Create("planted-" + Guid.NewGuid().ToString("N")[..8],
            FlakyJournal.Hocon + StoreRecordSerializer.Hocon + "akka.loglevel = OFF\n");
        var probe = new Akka.TestKit.TestProbe(system, new Akka.TestKit.Xunit2.XunitAssertions());
        var planter = system.ActorOf(Props.Create(() => new Planter(new ObjectPut("configmaps", System.Text.Encoding.UTF8.GetBytes("{\"metadata\":5}"), 1), probe.Ref)));
        planter.Tell("go");
        probe.ExpectMsg("planted");
        system.Stop(planter);
        probe.Watch(planter);
        probe.ExpectTerminated(planter);

        var health = new StoreHealth();
        var store = system.ActorOf(ObjectStore.Props(RegistryHosting.BuiltInCatalog(), health: health), ObjectStore.ActorName);

        var fatal = await health.Fatal.WaitAsync(TimeSpan.FromSeconds(10)); // the store reports that it cannot go on
        Assert.StartsWith("the journal: journal record 1 cannot be read: ", fatal);
        Assert.False(health.Ready);
        store.Tell(new GetObject(new ResourceKey("configmaps", "default", "x")), probe.Ref);
        Assert.Equal(503, probe.ExpectMsg<StoreFailed>().Error.Code);
    }

    [Fact]
    public void Writes_queued_behind_a_failing_write_are_answered_at_once()
    {
        FlakyJournal.Set(Sys, JournalFault.Refuse);
        for (var i = 0; i < 5; i++) _store.Tell(new CreateObject("configmaps", Objects.ConfigMap($"q{i}")));
        var codes = Enumerable.Range(0, 5).Select(_ => ExpectMsg<StoreFailed>(TimeSpan.FromSeconds(5)).Error.Code).ToList();
        Assert.Equal(500, codes[0]);
        Assert.All(codes.Skip(1), code => Assert.Equal(503, code));
    }
}
