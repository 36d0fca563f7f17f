using System.Collections.Concurrent;
using Akka.Actor;
using Orchestrator.Node.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Agent;

/// <summary>Node agent: a pod supervisor needs a ServiceAccount token; the agent asks the master for it.</summary>
internal sealed record PodTokenNeeded(string RequestId, TokenKey Key);

/// <summary>
/// The node's way to pods' ServiceAccount tokens: each request goes through the <see cref="NodeAgent"/> (the one that
/// talks to the master, so the master knows the node asking) and waits for the master's
/// <see cref="ServiceAccountTokenIssued"/>, which the agent hands back here; an answer that does not come in time is a
/// failed request (the token manager keeps a token it has until it expires).
/// </summary>
internal sealed class GatewayTokenSource(TimeSpan? timeout = null) : IServiceAccountTokenSource
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<IssuedToken>> _pending = new();
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(10);

    /// <summary>The agent; set when it starts.</summary>
    public IActorRef Agent { get; set; } = ActorRefs.Nobody;

    public async Task<IssuedToken> RequestAsync(TokenKey key, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        var answer = new TaskCompletionSource<IssuedToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            Agent.Tell(new PodTokenNeeded(id, key));
            return await answer.Task.WaitAsync(_timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TokenRequestException("the master did not answer the token request in time");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>The master's answer (or the agent's, when there is no master to ask).</summary>
    public void Complete(ServiceAccountTokenIssued issued)
    {
        if (!_pending.TryRemove(issued.RequestId, out var answer)) return;
        if (issued is { Token: { } token, ExpirationTimestamp: { } expires })
            answer.TrySetResult(new IssuedToken(token, new DateTimeOffset(DateTime.SpecifyKind(expires, DateTimeKind.Utc))));
        else answer.TrySetException(new TokenRequestException(issued.Error is { Length: > 0 } error ? error : "the master issued no token"));
    }
}
