using Akka.TestKit;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers.Support;

public static class ProbeAssertions
{
    /// <summary>Receives everything for <paramref name="within"/> and fails if any of it is a <typeparamref name="T"/>.</summary>
    public static void ExpectNo<T>(this TestProbe probe, TimeSpan within, Func<T, bool>? matching = null)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            var message = probe.ReceiveOne(deadline - DateTime.UtcNow);
            Assert.False(message is T t && (matching is null || matching(t)), $"unexpected {message}");
        }
    }
}

public static class ProbeStore
{
    /// <summary>Plays the store for a controller's reflectors: answers <paramref name="lists"/> ListObjects with
    /// <paramref name="items"/> and every WatchObjects with WatchStarted, in whatever order the reflectors ask.
    /// Returns the watch subscriber per resource.</summary>
    public static Dictionary<string, Akka.Actor.IActorRef> AnswerListsAndWatches(this TestProbe store, int lists,
        Func<string, IReadOnlyList<k8s.IKubernetesObject<k8s.Models.V1ObjectMeta>>> items)
    {
        var subscribers = new Dictionary<string, Akka.Actor.IActorRef>();
        var listed = 0;
        while (listed < lists || subscribers.Count < lists)
        {
            switch (store.ReceiveOne(TimeSpan.FromSeconds(3)))
            {
                case Orchestrator.Master.Store.ListObjects list:
                    store.Reply(new Orchestrator.Master.Store.ObjectsListed(items(list.Resource), 10));
                    listed++;
                    break;
                case Orchestrator.Master.Store.WatchObjects watch:
                    subscribers[watch.Resource] = watch.Subscriber;
                    store.Reply(new Orchestrator.Master.Store.WatchStarted(10));
                    break;
                case null:
                    throw new TimeoutException("the controller did not list and watch");
            }
        }
        return subscribers;
    }
}
