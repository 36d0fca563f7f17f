using k8s.Models;

namespace Orchestrator.Node.Runtime;

/// <summary>What a pod's serviceAccountToken projection asks for: a token of the pod's account, bound to the pod, for
/// the audience (empty: the API's) and lifetime given (kubelet's token manager key).</summary>
internal sealed record TokenKey(string Namespace, string PodName, string PodUid, string ServiceAccountName, string Audience,
    long ExpirationSeconds);

/// <summary>An issued token and the expiry announced with it (TokenRequest's status.expirationTimestamp).</summary>
internal sealed record IssuedToken(string Token, DateTimeOffset ExpirationTimestamp)
{
    public override string ToString() => $"IssuedToken {{ ExpirationTimestamp = {ExpirationTimestamp:O} }}";
}

/// <summary>A projection's token now, or why there is none (the FailedMount message).</summary>
internal sealed record TokenResult(string? Token, string? Error)
{
    public override string ToString() => $"TokenResult {{ Token = {(Token is null ? "none" : "(hidden)")}, Error = {Error} }}";
}

/// <summary>Where tokens come from: the master, over the node protocol. Throws <see cref="TokenRequestException"/> with
/// the master's reason when it issues none.</summary>
internal interface IServiceAccountTokenSource
{
    Task<IssuedToken> RequestAsync(TokenKey key, CancellationToken cancellationToken);
}

internal sealed class TokenRequestException(string message) : Exception(message);

/// <summary>
/// The kubelet's token manager (pkg/kubelet/token): the tokens of the node's pods' serviceAccountToken projections,
/// fetched from the master and kept until they need a refresh — older than 80% of their lifetime or than 24 hours
/// (each with up to 10 s of jitter). A failed refresh keeps the token until it expires; a token nobody asked for
/// for ten minutes goes (its pod is gone). Thread-safe: every pod's supervisor uses the node's one manager.
/// </summary>
internal sealed class PodTokens(IServiceAccountTokenSource source, TimeProvider? clock = null)
{
    public static readonly TimeSpan MaxTtl = TimeSpan.FromHours(24);
    private static readonly TimeSpan MaxJitter = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Unused = TimeSpan.FromMinutes(10);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly object _lock = new();
    private readonly Dictionary<TokenKey, (IssuedToken Token, DateTimeOffset LastUsed)> _tokens = new();

    /// <summary>The token of a pod's projection: the cached one, or a new one when it needs a refresh. Throws
    /// <see cref="TokenRequestException"/> when there is none to use ("failed to fetch token: …", the kubelet's words).</summary>
    public async Task<string> TokenAsync(TokenKey key, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        IssuedToken? cached;
        lock (_lock)
        {
            cached = _tokens.TryGetValue(key, out var entry) ? entry.Token : null;
            if (cached is not null) _tokens[key] = (cached, now);
            Sweep(now);
        }
        if (cached is not null && !RequiresRefresh(cached, key.ExpirationSeconds, now, Jitter())) return cached.Token;
        try
        {
            var fresh = await source.RequestAsync(key, cancellationToken);
            lock (_lock) _tokens[key] = (fresh, _clock.GetUtcNow());
            return fresh.Token;
        }
        catch (Exception e) when (e is TokenRequestException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // kubelet: a token that has not expired yet is still served when its refresh fails
            if (cached is not null && _clock.GetUtcNow() < cached.ExpirationTimestamp) return cached.Token;
            throw new TokenRequestException($"failed to fetch token: {e.Message}");
        }
    }

    /// <summary>The tokens of every serviceAccountToken projection of the pod, each a token or why there is none.</summary>
    public async Task<IReadOnlyDictionary<TokenKey, TokenResult>> ForAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var results = new Dictionary<TokenKey, TokenResult>();
        foreach (var key in KeysOf(pod))
        {
            try { results[key] = new TokenResult(await TokenAsync(key, cancellationToken), null); }
            catch (TokenRequestException e) { results[key] = new TokenResult(null, e.Message); }
        }
        return results;
    }

    /// <summary>The tokens of a pod that is gone.</summary>
    public void Forget(string podUid)
    {
        lock (_lock)
            foreach (var key in _tokens.Keys.Where(k => k.PodUid == podUid).ToList()) _tokens.Remove(key);
    }

    /// <summary>kubelet's requiresRefresh: the token is older than 24 h, or within 20% of its lifetime of its expiry
    /// (jitter earlier).</summary>
    public static bool RequiresRefresh(IssuedToken token, long expirationSeconds, DateTimeOffset now, TimeSpan jitter)
    {
        var expires = token.ExpirationTimestamp;
        var issued = expires - TimeSpan.FromSeconds(expirationSeconds);
        if (now > issued + MaxTtl - jitter) return true;
        return now > expires - TimeSpan.FromSeconds(expirationSeconds * 20 / 100) - jitter;
    }

    private static TimeSpan Jitter() => TimeSpan.FromSeconds((int)(Random.Shared.NextDouble() * MaxJitter.TotalSeconds));

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, entry) in _tokens.Where(t => now - t.Value.LastUsed > Unused).ToList())
            _tokens.Remove(key);
    }

    /// <summary>The keys of a pod's serviceAccountToken projections.</summary>
    public static IEnumerable<TokenKey> KeysOf(V1Pod pod) =>
        (pod.Spec?.Volumes ?? []).SelectMany(v => v.Projected?.Sources ?? []).Select(s => s.ServiceAccountToken)
        .OfType<V1ServiceAccountTokenProjection>().Select(p => KeyOf(pod, p)).Distinct();

    public static TokenKey KeyOf(V1Pod pod, V1ServiceAccountTokenProjection projection) =>
        new(pod.Metadata.NamespaceProperty ?? "default", pod.Metadata.Name, pod.Metadata.Uid ?? "",
            pod.Spec?.ServiceAccountName is { Length: > 0 } account ? account : "default", projection.Audience ?? "",
            projection.ExpirationSeconds ?? 3600);
}
