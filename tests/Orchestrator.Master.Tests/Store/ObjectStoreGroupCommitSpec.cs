using Orchestrator.Master.Registry;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Master.Tests.Store.Support;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>Group commit: the writes that arrive while a batch is with the journal are planned in order against the
/// writes not yet durable, stored together as one journal write, and neither answered nor seen before that write is
/// durable. The journal's writes are held at a gate, so what is in which batch does not depend on timing.</summary>
public sealed class ObjectStoreGroupCommitSpec : TestKit
{
    private readonly StoreHealth _health = new();
    private readonly IActorRef _store;

    public ObjectStoreGroupCommitSpec() : base(FlakyJournal.Hocon + StoreRecordSerializer.Hocon + "akka.loglevel = OFF\n",
        "group-" + Guid.NewGuid().ToString("N")[..8])
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

    private T Next<T>()
    {
        var reply = ExpectMsg<object>(TimeSpan.FromSeconds(5));
        return reply is T t ? t : throw new Xunit.Sdk.XunitException($"expected {typeof(T).Name}, got {reply}");
    }

    private static long Rv(ObjectStored stored) => long.Parse(stored.Object.Metadata.ResourceVersion);

    private static V1Namespace Namespace(string name) => new() { ApiVersion = "v1", Kind = "Namespace", Metadata = new V1ObjectMeta { Name = name } };

    private Akka.TestKit.TestProbe Watcher()
    {
        var watcher = CreateTestProbe();
        _store.Tell(new WatchObjects("*", null, null, watcher), watcher);
        watcher.ExpectMsg<WatchStarted>();
        return watcher;
    }

    [Fact]
    public void Writes_behind_a_batch_are_planned_in_order_against_it_and_stored_as_one_journal_write()
    {
        var watcher = Watcher();
        var rv = Assert.IsType<ObjectsListed>(Ask(new ListObjects("configmaps"))).ResourceVersion;
        FlakyJournal.Hold(Sys);
        var writesBefore = FlakyJournal.Writes(Sys).Count;

        _store.Tell(new CreateObject("configmaps", Objects.ConfigMap("first")));
        // Behind it: a create, the same create again, a namespace and an object in it, an update of the first
        // create without a precondition, and a dry run that sees the namespace.
        _store.Tell(new CreateObject("configmaps", Objects.ConfigMap("second")));
        _store.Tell(new CreateObject("configmaps", Objects.ConfigMap("second")));
        _store.Tell(new CreateObject("namespaces", Namespace("fresh")));
        _store.Tell(new CreateObject("configmaps", Objects.ConfigMap("inside", "fresh")));
        var changed = Objects.ConfigMap("first");
        changed.Data = new Dictionary<string, string> { ["k"] = "changed" };
        _store.Tell(new UpdateObject("configmaps", changed));
        _store.Tell(new CreateObject("configmaps", Objects.ConfigMap("dry", "fresh"), DryRun: true));

        // Nothing is durable yet: nothing is answered, reads and watches see none of it, and reads do not wait.
        Assert.Equal(404, Assert.IsType<StoreFailed>(Ask(new GetObject(new ResourceKey("configmaps", "default", "first")))).Error.Code);
        Assert.Equal(rv, Assert.IsType<ObjectsListed>(Ask(new ListObjects("configmaps"))).ResourceVersion);
        watcher.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        FlakyJournal.Release(Sys);
        var first = Next<ObjectStored>();
        Assert.Equal(rv + 1, Rv(first));
        Assert.Equal("first", watcher.ExpectMsg<ObjectChanged>().Object.Metadata.Name);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        FlakyJournal.Release(Sys);
        var second = Next<ObjectStored>();
        Assert.Equal(409, Next<StoreFailed>().Error.Code);
        var fresh = Next<ObjectStored>();
        var inside = Next<ObjectStored>();
        var updated = Next<ObjectStored>();
        var dry = Next<ObjectStored>();
        FlakyJournal.Open(Sys);

        Assert.Equal(new[] { rv + 2, rv + 3, rv + 4, rv + 5 }, new[] { second, fresh, inside, updated }.Select(Rv));
        Assert.Equal("changed", ((V1ConfigMap)updated.Object).Data["k"]);
        Assert.Equal("dry", dry.Object.Metadata.Name);
        Assert.Equal(404, Assert.IsType<StoreFailed>(Ask(new GetObject(new ResourceKey("configmaps", "fresh", "dry")))).Error.Code);
        // One journal write per batch, the second holding the four records of the writes planned behind the first.
        var writes = FlakyJournal.Writes(Sys).Skip(writesBefore).ToList();
        Assert.Equal(new[] { new[] { 1 }, new[] { 4 } }, writes);
        Assert.Equal(new[] { "second", "fresh", "inside", "first" },
            Enumerable.Range(0, 4).Select(_ => watcher.ExpectMsg<ObjectChanged>().Object.Metadata.Name));
        Assert.Equal(rv + 5, Assert.IsType<ObjectsListed>(Ask(new ListObjects("configmaps"))).ResourceVersion);
    }

    [Fact]
    public void A_batch_the_journal_refuses_fails_every_write_of_it_and_none_is_ever_seen()
    {
        var watcher = Watcher();
        FlakyJournal.Hold(Sys);
        _store.Tell(new CreateObject("configmaps", Objects.ConfigMap("kept")));
        _store.Tell(new CreateObject("configmaps", Objects.ConfigMap("lost-1")));
        _store.Tell(new CreateObject("configmaps", Objects.ConfigMap("lost-2")));
        FlakyJournal.Release(Sys);
        var kept = Next<ObjectStored>();
        Assert.Equal("kept", watcher.ExpectMsg<ObjectChanged>().Object.Metadata.Name);

        // The second batch (both lost-*) is at the gate now; a write behind it waits for it.
        _store.Tell(new CreateObject("configmaps", Objects.ConfigMap("behind")));
        FlakyJournal.Set(Sys, JournalFault.Refuse);
        FlakyJournal.Release(Sys);
        Assert.Equal(new[] { 500, 500, 503 }, Enumerable.Range(0, 3).Select(_ => Next<StoreFailed>().Error.Code));
        FlakyJournal.Set(Sys, JournalFault.None);
        FlakyJournal.Open(Sys);

        foreach (var name in new[] { "lost-1", "lost-2", "behind" })
            Assert.Equal(404, Assert.IsType<StoreFailed>(Ask(new GetObject(new ResourceKey("configmaps", "default", name)))).Error.Code);
        AwaitCondition(() => _health.Ready, TimeSpan.FromSeconds(10));
        var after = Assert.IsType<ObjectStored>(Ask(new CreateObject("configmaps", Objects.ConfigMap("after"))));
        Assert.True(Rv(after) > Rv(kept));
        // The watch saw nothing of the refused batch: the next change is the write after the outage.
        var change = watcher.ExpectMsg<ObjectChanged>();
        Assert.Equal(("after", Rv(after)), (change.Object.Metadata.Name, change.ResourceVersion));
    }

    [Fact]
    public void Services_planned_behind_a_batch_get_addresses_and_ports_no_other_service_of_it_has()
    {
        FlakyJournal.Hold(Sys);
        _store.Tell(new CreateObject("services", Objects.Service("a", type: "NodePort")));
        _store.Tell(new CreateObject("services", Objects.Service("b", type: "NodePort")));
        _store.Tell(new CreateObject("services", Objects.Service("c", type: "NodePort")));
        FlakyJournal.Release(Sys);
        FlakyJournal.Open(Sys);
        var services = Enumerable.Range(0, 3).Select(_ => (V1Service)Next<ObjectStored>().Object).ToList();
        Assert.Equal(3, services.Select(s => s.Spec.ClusterIP).Distinct().Count());
        Assert.Equal(3, services.Select(s => s.Spec.Ports[0].NodePort).Distinct().Count());
    }

    [Fact]
    public void Many_writes_at_once_take_strictly_increasing_resourceVersions_in_the_order_they_arrived()
    {
        var names = Enumerable.Range(0, 300).Select(i => $"c{i:D3}").ToList();
        foreach (var name in names) _store.Tell(new CreateObject("configmaps", Objects.ConfigMap(name)));
        var answers = names.Select(_ => Next<ObjectStored>()).ToList();
        Assert.Equal(names, answers.Select(a => a.Object.Metadata.Name));
        var versions = answers.Select(Rv).ToList();
        Assert.Equal(versions.Order(), versions);
        Assert.Equal(versions.Count, versions.Distinct().Count());
        Assert.Equal(300, Assert.IsType<ObjectsListed>(Ask(new ListObjects("configmaps", "default"))).Items.Count);
    }
}
