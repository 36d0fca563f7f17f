using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>A replica following a real ObjectStore through its change stream (the leader's side and the follower's).</summary>
public sealed class StoreReplicaSpec : StoreSpecBase
{
    private readonly ReplicaHealth _health = new();

    private IActorRef StartReplica() =>
        Sys.ActorOf(StoreReplica.Props(BuiltIn.NewCatalog(), () => Sys.ActorSelection(Store.Path), health: _health));

    private T Ask<T>(IActorRef replica, object message)
    {
        replica.Tell(message);
        return ExpectMsg<T>();
    }

    [Fact]
    public void A_replica_loads_the_state_then_follows_every_change()
    {
        Stored(new CreateObject("configmaps", Objects.ConfigMap("before")));
        var replica = StartReplica();
        var after = Stored(new CreateObject("configmaps", Objects.ConfigMap("after")));

        // a consistent read: it waits until the replica has applied the store's version of now
        var listed = Ask<ObjectsListed>(replica, new ListObjects("configmaps", "default"));
        Assert.Equal(["after", "before"], listed.Items.Select(o => o.Metadata.Name));
        Assert.Equal(CurrentResourceVersion(), listed.ResourceVersion);
        Assert.Equal(after.Metadata.ResourceVersion, Ask<ObjectStored>(replica, new GetObject(new ResourceKey("configmaps", "default", "after"))).Object.Metadata.ResourceVersion);
        Assert.True(_health.Following);
    }

    [Fact]
    public void A_consistent_read_sees_every_write_acknowledged_before_it()
    {
        var replica = StartReplica();
        for (var i = 0; i < 20; i++)
        {
            var written = Stored(new CreateObject("configmaps", Objects.ConfigMap($"cm-{i}")));
            Assert.Equal(written.Metadata.Uid, Ask<ObjectStored>(replica, new GetObject(new ResourceKey("configmaps", "default", $"cm-{i}"))).Object.Metadata.Uid);
        }
        Stored(new DeleteObject(new ResourceKey("configmaps", "default", "cm-3")));
        Assert.Equal(404, Ask<StoreFailed>(replica, new GetObject(new ResourceKey("configmaps", "default", "cm-3"))).Error.Code);
    }

    [Fact]
    public void A_watch_on_the_replica_gets_the_stores_changes_with_their_versions()
    {
        var replica = StartReplica();
        var at = Ask<ObjectsListed>(replica, new ListObjects("configmaps")).ResourceVersion;
        var watcher = CreateTestProbe();
        replica.Tell(new WatchObjects("configmaps", "default", at, watcher.Ref), watcher.Ref);
        watcher.ExpectMsg<WatchStarted>();
        var created = Stored(new CreateObject("configmaps", Objects.ConfigMap("watched")));
        var change = watcher.ExpectMsg<ObjectChanged>();
        Assert.Equal(("ADDED", "watched", Rv(created)), (change.Type, change.Object.Metadata.Name, change.ResourceVersion));
        Stored(new DeleteObject(new ResourceKey("configmaps", "default", "watched")));
        Assert.Equal("DELETED", watcher.ExpectMsg<ObjectChanged>().Type);
    }

    [Fact]
    public void A_read_from_a_version_the_replica_does_not_reach_is_answered_504_too_large()
    {
        var replica = StartReplica();
        var at = Ask<ObjectsListed>(replica, new ListObjects("configmaps")).ResourceVersion;
        // a list is answered with what there is (the API's check then answers 504 as on the leader); a get fails itself
        Assert.Equal(at, Ask<ObjectsListed>(replica, new ListObjects("configmaps") { NotOlderThan = at + 100 }).ResourceVersion);
        var failed = Ask<StoreFailed>(replica, new GetObject(new ResourceKey("configmaps", "default", "x")) { NotOlderThan = at + 100 });
        Assert.Equal((504, "Timeout"), (failed.Error.Code, failed.Error.Reason));
        Assert.StartsWith($"Too large resource version: {at + 100}", failed.Error.Message);
        Assert.Equal(1, failed.Error.ClientRetryAfterSeconds); // the client asks again by itself, as kube's watch cache tells it
    }

    [Fact]
    public void A_list_continuing_a_token_of_the_leader_says_whether_the_rest_is_unchanged_since()
    {
        var replica = StartReplica();
        Ask<ObjectsListed>(replica, new ListObjects("configmaps")); // a consistent read: the replica has loaded before the writes below
        foreach (var name in new[] { "a", "b", "c" }) Stored(new CreateObject("configmaps", Objects.ConfigMap(name)));
        var at = CurrentResourceVersion();
        Stored(new CreateObject("configmaps", Objects.ConfigMap("a0"))); // before the start key: the rest is the same
        var rest = new ListContinuation(at, "default/a0\0");
        Assert.True(Ask<ObjectsListed>(replica, new ListObjects("configmaps", "default") { NotOlderThan = at, Continuing = rest }).Continues);
        Stored(new CreateObject("configmaps", Objects.ConfigMap("bb")));
        var listed = Ask<ObjectsListed>(replica, new ListObjects("configmaps", "default") { Continuing = rest });
        Assert.Contains("bb", listed.Items.Select(o => o.Metadata.Name));
        Assert.False(listed.Continues);
        // the leader's store answers the same
        Store.Tell(new ListObjects("configmaps", "default") { Continuing = rest });
        Assert.False(ExpectMsg<ObjectsListed>().Continues);
        Store.Tell(new ListObjects("configmaps", "default") { Continuing = new ListContinuation(at, "default/c\0") });
        Assert.True(ExpectMsg<ObjectsListed>().Continues);
        // a replica that loaded its state after the token's version cannot tell what changed before: 410 there
        var late = StartReplica();
        Assert.False(Ask<ObjectsListed>(late, new ListObjects("configmaps", "default") { Continuing = new ListContinuation(at, "default/c\0") }).Continues);
    }

    [Fact]
    public void Writes_to_a_replica_are_refused_503()
    {
        var replica = StartReplica();
        Assert.Equal(503, Ask<StoreFailed>(replica, new CreateObject("configmaps", Objects.ConfigMap("no"))).Error.Code);
    }
}

/// <summary>A replica against a scripted feed: the stream's order, gaps, progress reports and waits.</summary>
public sealed class StoreReplicaStreamSpec() : TestKit("akka.loglevel = WARNING\nakka.test.single-expect-default = 10s")
{
    private readonly ResourceCatalog _catalog = BuiltIn.NewCatalog();

    private static string Json(string name, long rv)
    {
        var cm = Objects.ConfigMap(name);
        cm.Metadata.Uid = "uid-" + name;
        cm.Metadata.ResourceVersion = rv.ToString();
        return KubeObjects.Serialize(cm);
    }

    /// <summary>A replica whose leader is <paramref name="feed"/>, loaded with a snapshot of "a" at version 5.</summary>
    private IActorRef Loaded(TestProbe feed)
    {
        var replica = Sys.ActorOf(StoreReplica.Props(_catalog, () => Sys.ActorSelection(feed.Ref.Path)));
        feed.ExpectMsg<StartReplication>();
        feed.Send(replica, new SnapshotPart(1, [new ReplicatedObject("configmaps", Json("a", 3))]));
        feed.Send(replica, new SnapshotDone(2, 5));
        return replica;
    }

    [Fact]
    public void A_gap_in_the_stream_starts_over_from_a_new_snapshot()
    {
        var feed = CreateTestProbe();
        var replica = Loaded(feed);
        feed.Send(replica, new ChangeReplicated(4, "ADDED", "configmaps", Json("lost", 6), 6)); // 3 never came
        feed.ExpectMsg<StopReplication>();
        feed.ExpectMsg<StartReplication>();
        feed.Send(replica, new SnapshotPart(1, [new ReplicatedObject("configmaps", Json("a", 3)), new ReplicatedObject("configmaps", Json("b", 7))]));
        feed.Send(replica, new SnapshotDone(2, 9));

        replica.Tell(new ListObjects("configmaps") { NotOlderThan = 0 });
        var listed = ExpectMsg<ObjectsListed>();
        Assert.Equal(9L, listed.ResourceVersion);
        Assert.Equal(["a", "b"], listed.Items.Select(o => o.Metadata.Name));
    }

    [Fact]
    public void A_read_from_version_N_waits_until_the_replica_has_applied_N()
    {
        var feed = CreateTestProbe();
        var replica = Loaded(feed);
        replica.Tell(new GetObject(new ResourceKey("configmaps", "default", "c")) { NotOlderThan = 7 });
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        feed.Send(replica, new ChangeReplicated(3, "ADDED", "configmaps", Json("c", 7), 7));
        Assert.Equal("7", ExpectMsg<ObjectStored>().Object.Metadata.ResourceVersion);
    }

    [Fact]
    public void A_consistent_read_waits_for_the_leaders_progress_report_and_reads_everything_before_it()
    {
        var feed = CreateTestProbe();
        var replica = Loaded(feed);
        replica.Tell(new ListObjects("configmaps"));
        replica.Tell(new ListObjects("configmaps"), CreateTestProbe().Ref);
        feed.ExpectMsg<ProgressRequested>();
        feed.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // one request serves the reads that were waiting
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        feed.Send(replica, new ChangeReplicated(3, "ADDED", "configmaps", Json("d", 6), 6));
        feed.Send(replica, new ProgressReported(4, 8)); // a record without an object (a journal probe) took 7 and 8
        var listed = ExpectMsg<ObjectsListed>();
        Assert.Equal(8L, listed.ResourceVersion);
        Assert.Equal(["a", "d"], listed.Items.Select(o => o.Metadata.Name));
    }

    [Fact]
    public void A_watch_from_before_the_replicas_window_is_410_gone()
    {
        var feed = CreateTestProbe();
        var replica = Loaded(feed);
        replica.Tell(new WatchObjects("configmaps", null, 2, TestActor));
        var failed = ExpectMsg<StoreFailed>();
        Assert.Equal((410, "Expired"), (failed.Error.Code, failed.Error.Reason));
    }

    [Fact]
    public void Watches_end_with_410_when_a_new_snapshot_replaces_the_state()
    {
        var feed = CreateTestProbe();
        var replica = Loaded(feed);
        var watcher = CreateTestProbe();
        replica.Tell(new WatchObjects("configmaps", null, 5, watcher.Ref), watcher.Ref);
        watcher.ExpectMsg<WatchStarted>();
        feed.Send(replica, new ChangeReplicated(9, "ADDED", "configmaps", Json("x", 6), 6));
        feed.ExpectMsg<StopReplication>();
        feed.ExpectMsg<StartReplication>();
        feed.Send(replica, new SnapshotDone(1, 12));
        Assert.Equal(410, watcher.ExpectMsg<StoreFailed>().Error.Code);
    }

    [Fact]
    public void A_second_feed_is_told_to_stop()
    {
        var feed = CreateTestProbe();
        var replica = Loaded(feed);
        var stray = CreateTestProbe();
        stray.Send(replica, new SnapshotDone(1, 5));
        stray.ExpectMsg<StopReplication>();
    }

    [Fact]
    public void The_stream_messages_are_bound_to_their_serializer()
    {
        using var system = ActorSystem.Create("bound", ReplicationSerializer.Hocon);
        var serializer = system.Serialization.FindSerializerFor(new ChangeReplicated(1, "ADDED", "configmaps", "{}", 1));
        Assert.Equal(ReplicationSerializer.Id, serializer.Identifier);
        Assert.Equal(ReplicationSerializer.Id, system.Serialization.FindSerializerFor(new StartReplication()).Identifier);
    }

    [Fact]
    public void The_stream_messages_survive_their_serializer()
    {
        var serializer = new ReplicationSerializer((ExtendedActorSystem)Sys);
        object[] messages =
        [
            new StartReplication(), new ProgressRequested(), new StopReplication(),
            new SnapshotPart(1, [new ReplicatedObject("configmaps", Json("a", 3))]), new SnapshotDone(2, 5),
            new ChangeReplicated(3, "MODIFIED", "configmaps", Json("a", 6), 6), new ProgressReported(4, 7),
        ];
        foreach (var message in messages)
        {
            var back = serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
            Assert.Equal(KubeObjects.Serialize(message), KubeObjects.Serialize(back));
        }
    }
}
