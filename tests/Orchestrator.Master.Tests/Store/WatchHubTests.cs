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
}
