using Akka.Actor;
using Akka.Hosting;

namespace Orchestrator.Master.Api.Storage;

/// <summary>
/// Waiting for a top-level actor to be registered (the store, or this master's replica of it). Not Akka.Hosting's
/// <c>GetAsync</c>: its waiter is added after its registry check, so a registration that lands between the two is
/// missed and the caller waits for its cancellation — the API's informers then started 10 s late, and the API answered
/// before its authorizer knew a role. The registry is asked again every 20 ms until the actor is there.
/// </summary>
internal static class RegisteredActors
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    public static async Task<IActorRef> WhenRegisteredAsync<TKey>(this IReadOnlyActorRegistry registry, CancellationToken cancellationToken)
    {
        IActorRef actor;
        while (!registry.TryGet<TKey>(out actor)) await Task.Delay(PollInterval, cancellationToken);
        return actor;
    }
}
