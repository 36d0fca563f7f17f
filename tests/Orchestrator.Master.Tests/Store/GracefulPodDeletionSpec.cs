using k8s.Models;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>Deleting a pod that runs on a node marks it for its grace period; the node's report removes it.</summary>
public class GracefulPodDeletionSpec : StoreSpecBase
{
    private static ResourceKey Key(string name) => new("pods", "default", name);

    private V1Pod BoundPod(string name, long? grace = null)
    {
        var pod = Objects.Pod(name);
        pod.Spec.NodeName = "node1";
        pod.Spec.TerminationGracePeriodSeconds = grace;
        return (V1Pod)Stored(new CreateObject("pods", pod));
    }

    [Fact]
    public void A_bound_pod_deleted_through_the_api_is_marked_with_its_own_grace_period()
    {
        BoundPod("p", grace: 45);
        var before = DateTime.UtcNow;
        var marked = (V1Pod)Stored(new DeleteObject(Key("p"), GracePeriodSeconds: null));
        Assert.Equal(45, marked.Metadata.DeletionGracePeriodSeconds);
        Assert.InRange(marked.Metadata.DeletionTimestamp!.Value, before.AddSeconds(43), before.AddSeconds(47));
        Assert.NotNull(Stored(new GetObject(Key("p"))));
    }

    [Fact]
    public void A_second_delete_may_shorten_the_grace_period_and_grace_zero_removes_the_pod()
    {
        BoundPod("p", grace: 45);
        Stored(new DeleteObject(Key("p"), GracePeriodSeconds: null));
        Assert.Equal(5, ((V1Pod)Stored(new DeleteObject(Key("p"), GracePeriodSeconds: 5))).Metadata.DeletionGracePeriodSeconds);
        Assert.Equal(5, ((V1Pod)Stored(new DeleteObject(Key("p"), GracePeriodSeconds: 60))).Metadata.DeletionGracePeriodSeconds);
        Stored(new DeleteObject(Key("p"), GracePeriodSeconds: 0));
        Failed(new GetObject(Key("p")));
    }

    [Fact]
    public void Unbound_pods_and_controller_deletes_go_at_once()
    {
        Stored(new CreateObject("pods", Objects.Pod("pending")));
        Stored(new DeleteObject(Key("pending"), GracePeriodSeconds: null));
        Failed(new GetObject(Key("pending")));

        BoundPod("bound", grace: 30);
        Stored(new DeleteObject(Key("bound"))); // a controller's delete: grace 0 by default
        Failed(new GetObject(Key("bound")));
    }
}

/// <summary>The store outlives its watch subscribers, however their Unwatch and death race.</summary>
public class ObjectStoreTerminatedSpec : StoreSpecBase
{
    [Fact]
    public void Subscribers_that_unwatch_and_stop_at_once_do_not_stop_the_store()
    {
        var replies = CreateTestProbe();
        for (var i = 0; i < 200; i++)
        {
            var subscriber = CreateTestProbe();
            Store.Tell(new WatchObjects("pods", null, null, subscriber.Ref), replies.Ref);
            if (i % 2 == 0) Store.Tell(new Unwatch(subscriber.Ref), replies.Ref);
            Sys.Stop(subscriber.Ref);
            if (i % 3 == 0) Store.Tell(new Unwatch(subscriber.Ref), replies.Ref);
        }
        Stored(new CreateObject("pods", Objects.Pod("still-alive")));
        Assert.NotNull(Stored(new GetObject(new ResourceKey("pods", "default", "still-alive"))));
    }
}
