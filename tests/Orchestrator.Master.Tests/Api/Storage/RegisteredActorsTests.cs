using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Storage;

/// <summary>The API finds the store however its registration and the API's first wait interleave.</summary>
public sealed class RegisteredActorsTests
{
    [Fact]
    public async Task An_actor_registered_before_the_wait_is_returned_at_once()
    {
        var registry = new ActorRegistry();
        registry.Register<ObjectStore>(ActorRefs.Nobody);
        var task = registry.WhenRegisteredAsync<ObjectStore>(CancellationToken.None);
        Assert.True(task.IsCompletedSuccessfully);
        Assert.Same(ActorRefs.Nobody, await task);
    }

    [Fact]
    public async Task An_actor_registered_while_the_caller_waits_is_found()
    {
        // (Akka.Hosting's GetAsync misses a Register that lands between its registry check and adding its waiter)
        var registry = new ActorRegistry();
        var task = registry.WhenRegisteredAsync<ObjectStore>(CancellationToken.None);
        Assert.False(task.IsCompleted);
        registry.Register<ObjectStore>(ActorRefs.Nobody);
        Assert.Same(ActorRefs.Nobody, await task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task The_wait_ends_with_its_cancellation()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ActorRegistry().WhenRegisteredAsync<ObjectStore>(cancellation.Token));
    }
}
