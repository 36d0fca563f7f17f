using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

public class WatchHubTests : TestKit
{
    private static ObjectChanged Change(long rv, string ns = "default") =>
        new("ADDED", "configmaps", new V1ConfigMap { Metadata = new V1ObjectMeta { Name = $"c{rv}", NamespaceProperty = ns } }, rv);

    [Fact]
    public void The_window_keeps_the_newest_changes_and_moves_its_floor()
    {
        var hub = new WatchHub(capacity: 3);
        for (var rv = 1; rv <= 5; rv++) hub.Publish(Change(rv));
        Assert.Equal(2, hub.Floor);
        Assert.Null(hub.CheckReplayable(2));
        Assert.Equal("too old resource version: 1 (2)", hub.CheckReplayable(1)!.Message);
    }

    [Fact]
    public void Subscribers_get_matching_changes_until_unsubscribed()
    {
        var hub = new WatchHub();
        var probe = CreateTestProbe();
        Assert.True(hub.Subscribe("configmaps", "default", null, probe));
        Assert.False(hub.Subscribe("pods", null, null, probe));
        hub.Publish(Change(1, "other"));
        hub.Publish(Change(2));
        Assert.Equal(2, probe.ExpectMsg<ObjectChanged>().ResourceVersion);

        Assert.True(hub.Unsubscribe(probe));
        Assert.Equal(0, hub.SubscriberCount);
        hub.Publish(Change(3));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Held_changes_go_to_each_subscriber_together_in_order_as_a_batch_when_it_asked_for_batches()
    {
        var hub = new WatchHub();
        var batches = CreateTestProbe();
        var single = CreateTestProbe();
        hub.Subscribe("configmaps", "default", null, batches, batches: true);
        hub.Subscribe("configmaps", "default", null, single);
        hub.Hold();
        foreach (var change in new[] { Change(1), Change(2, "other"), Change(3), Change(4) }) hub.Publish(change);
        batches.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        hub.Deliver();
        Assert.Equal([1L, 3, 4], batches.ExpectMsg<ObjectsChanged>().Changes.Select(c => c.ResourceVersion));
        Assert.Equal([1L, 3, 4], new[] { single.ExpectMsg<ObjectChanged>(), single.ExpectMsg<ObjectChanged>(), single.ExpectMsg<ObjectChanged>() }
            .Select(c => c.ResourceVersion));
        Assert.Equal(4, hub.Count);

        // one matching change is a plain ObjectChanged; after Deliver changes go out as they are published again
        hub.Hold();
        hub.Publish(Change(5));
        hub.Publish(Change(6, "other"));
        hub.Deliver();
        Assert.Equal(5, batches.ExpectMsg<ObjectChanged>().ResourceVersion);
        hub.Publish(Change(7));
        Assert.Equal(7, batches.ExpectMsg<ObjectChanged>().ResourceVersion);
        single.ReceiveN(2);
        batches.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void A_replay_goes_to_a_batch_subscriber_as_one_message_in_order()
    {
        var hub = new WatchHub();
        for (var rv = 1; rv <= 5; rv++) hub.Publish(Change(rv, rv == 3 ? "other" : "default"));
        var probe = CreateTestProbe();
        hub.Subscribe("configmaps", "default", 1, probe, batches: true);
        Assert.Equal([2L, 4, 5], probe.ExpectMsg<ObjectsChanged>().Changes.Select(c => c.ResourceVersion));
        hub.Publish(Change(6));
        Assert.Equal(6, probe.ExpectMsg<ObjectChanged>().ResourceVersion);
    }

    [Fact]
    public void Batch_subscribers_that_match_a_whole_commit_share_one_message_and_the_others_get_their_own()
    {
        var hub = new WatchHub();
        var (a, b, other) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        hub.Subscribe("configmaps", null, null, a, batches: true);
        hub.Subscribe("configmaps", null, null, b, batches: true);
        hub.Subscribe("configmaps", "default", null, other, batches: true);
        hub.Hold();
        foreach (var change in new[] { Change(1), Change(2, "other"), Change(3) }) hub.Publish(change);
        hub.Deliver();
        var (first, second) = (a.ExpectMsg<ObjectsChanged>(), b.ExpectMsg<ObjectsChanged>());
        Assert.Same(first, second);
        Assert.Equal([1L, 2, 3], first.Changes.Select(c => c.ResourceVersion));
        Assert.Equal([1L, 3], other.ExpectMsg<ObjectsChanged>().Changes.Select(c => c.ResourceVersion));
    }

    [Fact]
    public void A_subscriber_with_a_sink_has_its_replay_and_changes_written_into_it_in_order_and_nothing_told()
    {
        var hub = new WatchHub();
        for (var rv = 1; rv <= 3; rv++) hub.Publish(Change(rv));
        var probe = CreateTestProbe();
        var channel = System.Threading.Channels.Channel.CreateUnbounded<object>();
        Assert.True(hub.Subscribe("configmaps", "default", 1, probe, batches: true, sink: channel.Writer));
        hub.Publish(Change(4));
        hub.Hold();
        hub.Publish(Change(5));
        hub.Publish(Change(6));
        hub.Deliver();
        var written = new List<object>();
        while (channel.Reader.TryRead(out var message)) written.Add(message);
        Assert.Equal([2L, 3], ((ObjectsChanged)written[0]).Changes.Select(c => c.ResourceVersion));
        Assert.Equal(4, ((ObjectChanged)written[1]).ResourceVersion);
        Assert.Equal([5L, 6], ((ObjectsChanged)written[2]).Changes.Select(c => c.ResourceVersion));
        Assert.Equal(3, written.Count);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void A_full_sink_is_completed_as_fallen_behind_and_its_subscription_dropped()
    {
        var hub = new WatchHub();
        var probe = CreateTestProbe();
        var channel = System.Threading.Channels.Channel.CreateBounded<object>(2);
        hub.Subscribe("configmaps", "default", null, probe, sink: channel.Writer);
        for (var rv = 1; rv <= 3; rv++) hub.Publish(Change(rv));
        Assert.Equal(0, hub.SubscriberCount);
        Assert.Equal(1, channel.Reader.TryRead(out var first) ? ((ObjectChanged)first).ResourceVersion : 0);
        Assert.True(channel.Reader.TryRead(out _));
        var ended = Assert.ThrowsAsync<WatchFeedEndedException>(() => channel.Reader.Completion).Result;
        Assert.Equal("the watch fell too far behind", ended.Message);
        hub.Publish(Change(4));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void A_list_continues_unchanged_only_when_the_window_shows_no_change_from_its_start_key_on()
    {
        var hub = new WatchHub(capacity: 4);
        for (var rv = 1; rv <= 4; rv++) hub.Publish(Change(rv)); // default/c1 … default/c4
        // after 2: c3 and c4 changed — keys from "default/c3" on did, keys after "default/c4" did not
        Assert.False(hub.UnchangedSince("configmaps", null, 2, "default/c3"));
        Assert.False(hub.UnchangedSince("configmaps", "default", 2, "default/c4"));
        Assert.True(hub.UnchangedSince("configmaps", null, 2, "default/c4\0"));
        Assert.True(hub.UnchangedSince("configmaps", "other", 2, "default/c1"));
        Assert.True(hub.UnchangedSince("pods", null, 2, "default/c1"));
        Assert.True(hub.UnchangedSince("configmaps", null, 4, "default/c1"));
        // the window no longer reaches back to 1 (changes after 1 may have left it)
        hub.Publish(Change(5, "other"));
        Assert.Equal(1, hub.Floor);
        Assert.True(hub.UnchangedSince("configmaps", "default", 1, "default/c5"));
        hub.Publish(Change(6, "other"));
        Assert.False(hub.UnchangedSince("configmaps", "default", 1, "default/c5"));
    }
}
