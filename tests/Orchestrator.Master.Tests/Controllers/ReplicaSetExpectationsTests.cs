using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using k8s;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Xunit;
using Xunit.Abstractions;
using Orchestrator.Master.Tests.Controllers.Support;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers;

/// <summary>The replica-set loop against a TestProbe standing in for the store, so replies can be held back.</summary>
public sealed class ReplicaSetExpectationsTests(ITestOutputHelper output) : TestKit("akka.loglevel = INFO\nakka.test.single-expect-default = 10s", output)
{
    [Fact]
    public void Creates_in_flight_are_not_repeated_when_the_replica_set_changes_again()
    {
        var store = CreateTestProbe("store");
        var rs = ReplicaSet("web-abc", 2);
        rs.Metadata.Uid = "rs-uid";
        rs.Metadata.ResourceVersion = "10";
        Sys.ActorOf(ReplicaSetController.Props(store, TimeSpan.FromMinutes(5)));

        var subscribers = Start(store, ("replicasets", [rs]), ("pods", []));
        // Slow start: the second create goes out once the first is answered.
        var first = PodCreate(store);
        store.LastSender.Tell(new ObjectStored(first.Object));
        var creates = new[] { first, PodCreate(store) };
        store.LastSender.Tell(new ObjectStored(creates[1].Object));

        // The RS changes before the pods show up in the feed: the pods in flight must still be counted.
        var relabelled = Orchestrator.Shared.Api.KubeObjects.Clone(rs);
        relabelled.Metadata.ResourceVersion = "11";
        relabelled.Metadata.Labels = new Dictionary<string, string> { ["touched"] = "yes" };
        subscribers["replicasets"].Tell(new ObjectChanged("MODIFIED", "replicasets", relabelled, 11));
        store.ExpectNo<CreateObject>(TimeSpan.FromMilliseconds(500), c => c.Resource == "pods");

        // Once both pods are seen, a further change still creates nothing: the count is right.
        var version = 12;
        foreach (var create in creates)
        {
            var pod = (V1Pod)Orchestrator.Shared.Api.KubeObjects.CloneObject(create.Object);
            pod.Metadata.Uid = Guid.NewGuid().ToString();
            pod.Metadata.ResourceVersion = version.ToString();
            subscribers["pods"].Tell(new ObjectChanged("ADDED", "pods", pod, version++));
        }
        relabelled = Orchestrator.Shared.Api.KubeObjects.Clone(relabelled);
        relabelled.Metadata.ResourceVersion = version.ToString();
        subscribers["replicasets"].Tell(new ObjectChanged("MODIFIED", "replicasets", relabelled, version));
        store.ExpectNo<CreateObject>(TimeSpan.FromMilliseconds(500), c => c.Resource == "pods");
    }

    [Fact]
    public void A_gone_watch_is_answered_by_listing_again()
    {
        var store = CreateTestProbe("store");
        Sys.ActorOf(ReplicaSetController.Props(store, TimeSpan.FromMinutes(5)));
        Start(store, ("replicasets", []), ("pods", []), answerWatch: false);

        // Both watches fail with 410: each reflector lists again. The first one's Unwatch and list may come before the
        // second watch (the reflectors run side by side).
        var relisted = new HashSet<string>();
        var failed = 0;
        while (failed < 2 || relisted.Count < 2)
        {
            switch (pendingWatches.Count > 0 ? pendingWatches.Dequeue() : store.ReceiveOne(TimeSpan.FromSeconds(10)))
            {
                case WatchObjects watch:
                    watch.Subscriber.Tell(new StoreFailed(new StoreError(410, "Expired", "too old resource version")));
                    failed++;
                    break;
                case ListObjects list:
                    relisted.Add(list.Resource);
                    break;
                case null:
                    throw new TimeoutException($"{failed} watches failed, relisted: {string.Join(", ", relisted)}");
            }
        }
        Assert.Equal(["pods", "replicasets"], relisted.Order());
    }

    private readonly Queue<WatchObjects> pendingWatches = new();

    /// <summary>Answers both reflectors' lists (and watches) and returns the watch subscriber per resource.</summary>
    private Dictionary<string, IActorRef> Start(TestProbe store, (string Resource, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Items) first,
        (string Resource, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Items) second, bool answerWatch = true)
    {
        var items = new Dictionary<string, IReadOnlyList<IKubernetesObject<V1ObjectMeta>>>
        {
            [first.Resource] = first.Items, [second.Resource] = second.Items,
        };
        // The two reflectors run concurrently: answer their lists and watches in whatever order they come.
        var subscribers = new Dictionary<string, IActorRef>();
        var listed = 0;
        while (listed < 2 || (answerWatch && subscribers.Count < 2))
        {
            switch (store.ReceiveOne(TimeSpan.FromSeconds(3)))
            {
                case ListObjects list:
                    store.Reply(new ObjectsListed(items[list.Resource], 10));
                    listed++;
                    break;
                case WatchObjects watch when answerWatch:
                    subscribers[watch.Resource] = watch.Subscriber;
                    store.Reply(new WatchStarted(10));
                    break;
                case WatchObjects watch:
                    pendingWatches.Enqueue(watch);
                    break;
                case null:
                    throw new TimeoutException("the controller did not list and watch");
            }
        }
        return subscribers;
    }

    // (the events of created pods are creates too)
    private static CreateObject PodCreate(TestProbe store) => (CreateObject)store.FishForMessage(m => m is CreateObject { Resource: "pods" });
}
