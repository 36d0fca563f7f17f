using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Master.Identity;

/// <summary>An object a token is bound to (a pod, a secret, a node): its name and uid.</summary>
internal sealed record BoundObject(string Name, string Uid);

/// <summary>What a ServiceAccount token says, as kube's serviceaccount claims: the account, the audiences, the times,
/// its id (jti) and the objects it is bound to. <see cref="WarnAfter"/> is set on a token whose expiry kube-apiserver
/// extended (a pod's projected token): used after that time, it is still valid, but stale.</summary>
internal sealed record ServiceAccountClaims(
    string Namespace, string ServiceAccountName, string ServiceAccountUid, IReadOnlyList<string> Audiences,
    DateTimeOffset IssuedAt, DateTimeOffset Expires, string Id,
    BoundObject? Pod = null, BoundObject? Secret = null, BoundObject? Node = null, DateTimeOffset? WarnAfter = null)
{
    public string Subject => $"system:serviceaccount:{Namespace}:{ServiceAccountName}";
}

/// <summary>What a legacy (Secret-based) ServiceAccount token says: the account and the Secret that holds it.</summary>
internal sealed record LegacyTokenClaims(string Namespace, string ServiceAccountName, string ServiceAccountUid, string SecretName)
{
    public string Subject => $"system:serviceaccount:{Namespace}:{ServiceAccountName}";
}

/// <summary>Why a token is not accepted. <see cref="NotOurs"/>: not a token of this issuer at all (another
/// authenticator may know it); otherwise it is ours and invalid, with kube's message.</summary>
internal sealed record TokenRejected(string Message, bool NotOurs = false);

/// <summary>
/// Issues and checks ServiceAccount JWTs as kube-apiserver's token generator and authenticator: signed with the
/// <see cref="ServiceAccountSigningKey"/>, issuer from --service-account-issuer, audiences defaulting to the API's
/// (--api-audiences, else the issuer). Checking covers the signature, issuer, times (a minute of leeway, as go-jose)
/// and audiences; whether the account and bound objects still exist is the caller's part. A token whose signature
/// verified is kept decoded (<see cref="Decoded"/>), so that its next use skips the signature check and the JSON: the
/// key never changes in an instance and what is kept is a function of the token's text alone; the times and audiences
/// are checked on every use as before, and the caller's checks of the account and bound objects too.
/// </summary>
internal sealed class ServiceAccountTokens(ServiceAccountSigningKey key, string issuer, IReadOnlyList<string> apiAudiences, TimeProvider clock)
{
    public const string DefaultIssuer = "https://kubernetes.default.svc.cluster.local";
    /// <summary>The expiry kubelet asks for in kube-api-access volumes; kube-apiserver extends such tokens to a year
    /// (--service-account-extend-token-expiration) and marks when they became stale.</summary>
    public const long KubeletDefaultExpirationSeconds = 3607;
    public static readonly TimeSpan ExtendedExpiration = TimeSpan.FromDays(365);
    private static readonly TimeSpan Leeway = TimeSpan.FromMinutes(1);

    public string Issuer => issuer;
    public IReadOnlyList<string> ApiAudiences => apiAudiences;
    public ServiceAccountSigningKey Key => key;
    public DateTimeOffset Now => clock.GetUtcNow();

    /// <summary>The claims of a new token for the account, valid for <paramref name="lifetime"/> from now (extended to a year
    /// for a pod-bound token of kubelet's 3607 s, as kube does).</summary>
    public ServiceAccountClaims NewClaims(string ns, string name, string uid, IReadOnlyList<string> audiences, TimeSpan lifetime,
        BoundObject? pod = null, BoundObject? secret = null, BoundObject? node = null)
    {
        var now = TruncateToSeconds(clock.GetUtcNow());
        var extend = pod is not null && (long)lifetime.TotalSeconds == KubeletDefaultExpirationSeconds;
        return new ServiceAccountClaims(ns, name, uid, audiences.Count > 0 ? audiences : apiAudiences, now,
            now + (extend ? ExtendedExpiration : lifetime), Guid.NewGuid().ToString(), pod, secret, node,
            extend ? now + lifetime : null);
    }

    public string Sign(ServiceAccountClaims claims)
    {
        var service = new JsonObject
        {
            ["namespace"] = claims.Namespace,
            ["serviceaccount"] = new JsonObject { ["name"] = claims.ServiceAccountName, ["uid"] = claims.ServiceAccountUid },
        };
        if (claims.Node is { } node) service["node"] = Ref(node);
        if (claims.Pod is { } pod) service["pod"] = Ref(pod);
        if (claims.Secret is { } secret) service["secret"] = Ref(secret);
        if (claims.WarnAfter is { } warnAfter) service["warnafter"] = warnAfter.ToUnixTimeSeconds();
        var payload = new JsonObject
        {
            ["aud"] = new JsonArray(claims.Audiences.Select(a => (JsonNode)a).ToArray()),
            ["exp"] = claims.Expires.ToUnixTimeSeconds(),
            ["iat"] = claims.IssuedAt.ToUnixTimeSeconds(),
            ["iss"] = issuer,
            ["jti"] = claims.Id,
            ["kubernetes.io"] = service,
            ["nbf"] = claims.IssuedAt.ToUnixTimeSeconds(),
            ["sub"] = claims.Subject,
        };
        return Jws(payload);
    }

    /// <summary>The compact JWS of <paramref name="payload"/>, signed with the key (its id in the header).</summary>
    private string Jws(JsonObject payload)
    {
        var header = new JsonObject { ["alg"] = key.Algorithm, ["kid"] = key.KeyId };
        var signingInput = Base64Url.Encode(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." +
                           Base64Url.Encode(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        return signingInput + "." + Base64Url.Encode(key.Sign(Encoding.ASCII.GetBytes(signingInput)));
    }

    private static JsonObject Ref(BoundObject bound) => new() { ["name"] = bound.Name, ["uid"] = bound.Uid };

    /// <summary>At most this many verified tokens kept decoded (bound and legacy each); when full, all are dropped and the
    /// next uses verify again. A cluster's workloads use far fewer at a time.</summary>
    internal const int MaxKept = 4096;

    /// <summary>A verified bound token's fields that do not depend on the time or the audiences asked for: its times,
    /// its audiences, and its claims or what is wrong with them.</summary>
    private sealed record Decoded(DateTimeOffset? Expires, DateTimeOffset? NotBefore, DateTimeOffset? IssuedAt,
        IReadOnlyList<string> Audiences, ServiceAccountClaims? Claims, TokenRejected? Malformed);

    /// <summary>A verified legacy token's claims, or what is wrong with them.</summary>
    private sealed record DecodedLegacy(LegacyTokenClaims? Claims, TokenRejected? Malformed);

    private readonly ConcurrentDictionary<string, Decoded> _verified = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DecodedLegacy> _verifiedLegacy = new(StringComparer.Ordinal);

    /// <summary>How many verified tokens are kept decoded (tests).</summary>
    internal int KeptCount => _verified.Count + _verifiedLegacy.Count;

    private static void Keep<T>(ConcurrentDictionary<string, T> kept, string token, T decoded)
    {
        if (kept.Count >= MaxKept) kept.Clear();
        kept.TryAdd(token, decoded);
    }

    /// <summary>The claims of a token this issuer signed that is valid now for one of <paramref name="audiences"/>
    /// (the API's when empty), or why not.</summary>
    public (ServiceAccountClaims? Claims, TokenRejected? Rejected) Check(string token, IReadOnlyList<string>? audiences = null)
    {
        if (!_verified.TryGetValue(token, out var decoded))
        {
            var (payload, rejected) = Verified(token, issuer);
            if (payload is null) return (null, rejected);
            decoded = Decode(payload);
            Keep(_verified, token, decoded);
        }

        var now = clock.GetUtcNow();
        if (decoded.Expires is { } e1 && now - Leeway > e1) return (null, new TokenRejected("service account token has expired"));
        if (decoded.NotBefore is { } n && now + Leeway < n) return (null, new TokenRejected("service account token is not valid yet"));
        if (decoded.IssuedAt is { } i && now + Leeway < i) return (null, new TokenRejected("service account token is issued in the future"));

        var wanted = audiences is { Count: > 0 } ? audiences : apiAudiences;
        if (!decoded.Audiences.Intersect(wanted).Any())
            return (null, new TokenRejected($"token audiences {Quote(decoded.Audiences)} is invalid for the target audiences {Quote(wanted)}"));
        return decoded.Malformed is { } malformed ? (null, malformed) : (decoded.Claims, null);
    }

    private static Decoded Decode(JsonObject payload)
    {
        var exp = Seconds(payload["exp"]);
        var nbf = Seconds(payload["nbf"]);
        var iat = Seconds(payload["iat"]);
        var tokenAudiences = payload["aud"] switch
        {
            JsonArray array => array.Select(Text).OfType<string>().ToList(),
            JsonValue single when Text(single) is { } one => [one],
            _ => new List<string>(),
        };

        if (payload["kubernetes.io"] is not JsonObject service || Text(service["namespace"]) is not { Length: > 0 } ns ||
            service["serviceaccount"] is not JsonObject account || Text(account["name"]) is not { Length: > 0 } name ||
            Text(account["uid"]) is not { Length: > 0 } uid)
            return new Decoded(exp, nbf, iat, tokenAudiences, null,
                new TokenRejected("service account token claims are missing the kubernetes.io namespace or serviceaccount"));
        if (Text(payload["sub"]) != $"system:serviceaccount:{ns}:{name}")
            return new Decoded(exp, nbf, iat, tokenAudiences, null, new TokenRejected("service account token's subject does not match its claims"));
        var warnAfter = Seconds(service["warnafter"]);
        return new Decoded(exp, nbf, iat, tokenAudiences, new ServiceAccountClaims(ns, name, uid, tokenAudiences,
            iat ?? DateTimeOffset.UnixEpoch, exp ?? DateTimeOffset.MaxValue, Text(payload["jti"]) ?? "", Bound(service["pod"]),
            Bound(service["secret"]), Bound(service["node"]), warnAfter), null);
    }

    /// <summary>The payload of a JWS this key signed for <paramref name="expectedIssuer"/>, or why not (<see
    /// cref="TokenRejected.NotOurs"/>: not a JWT, or another issuer's).</summary>
    private (JsonObject? Payload, TokenRejected? Rejected) Verified(string token, string expectedIssuer)
    {
        var parts = token.Split('.');
        if (parts.Length != 3) return (null, new TokenRejected("not a JWT", NotOurs: true));
        JsonObject? header, payload;
        try
        {
            header = JsonNode.Parse(Base64Url.TryDecode(parts[0]) ?? [])?.AsObject();
            payload = JsonNode.Parse(Base64Url.TryDecode(parts[1]) ?? [])?.AsObject();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return (null, new TokenRejected("not a JWT", NotOurs: true));
        }
        if (header is null || payload is null || Text(payload["iss"]) != expectedIssuer)
            return (null, new TokenRejected("not issued by this cluster", NotOurs: true));
        var signature = Base64Url.TryDecode(parts[2]);
        if (Text(header["alg"]) != key.Algorithm || Text(header["kid"]) is { } kid && kid != key.KeyId || signature is null ||
            !key.Verify(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature))
            return (null, new TokenRejected("square/go-jose: error in cryptographic primitive"));
        return (payload, null);
    }

    /// <summary>kube-controller-manager's legacy token (a Secret of type kubernetes.io/service-account-token that its
    /// token controller fills): issuer <see cref="LegacyIssuer"/>, no audience and no expiry, bound to the Secret by name.
    /// Signed with the same key as the bound tokens, as kube's controller signs with the key the API server verifies.</summary>
    public string SignLegacy(LegacyTokenClaims claims)
    {
        // Go's JSON of the merged claims: keys in sorted order
        var payload = new JsonObject
        {
            ["iss"] = LegacyIssuer,
            [LegacyNamespaceClaim] = claims.Namespace,
            [LegacySecretNameClaim] = claims.SecretName,
            [LegacyAccountNameClaim] = claims.ServiceAccountName,
            [LegacyAccountUidClaim] = claims.ServiceAccountUid,
            ["sub"] = claims.Subject,
        };
        return Jws(payload);
    }

    /// <summary>The claims of a legacy token this key signed, valid for <paramref name="audiences"/> (a legacy token has
    /// none of its own, so it is valid for the API's alone, as kube's implicit audiences), or why not, with kube's
    /// messages (pkg/serviceaccount/legacy.go). Whether its Secret and account still back it is the caller's part.</summary>
    public (LegacyTokenClaims? Claims, TokenRejected? Rejected) CheckLegacy(string token, IReadOnlyList<string>? audiences = null)
    {
        if (!_verifiedLegacy.TryGetValue(token, out var decoded))
        {
            var (payload, rejected) = Verified(token, LegacyIssuer);
            if (payload is null) return (null, rejected);
            decoded = DecodeLegacy(payload);
            Keep(_verifiedLegacy, token, decoded);
        }
        if (audiences is { Count: > 0 } && !apiAudiences.Intersect(audiences).Any())
            return (null, new TokenRejected($"token audiences {Quote(apiAudiences)} is invalid for the target audiences {Quote(audiences)}"));
        return (decoded.Claims, decoded.Malformed);
    }

    private static DecodedLegacy DecodeLegacy(JsonObject payload)
    {
        static DecodedLegacy Malformed(string message) => new(null, new TokenRejected(message));
        var subject = Text(payload["sub"]);
        if (string.IsNullOrEmpty(subject)) return Malformed("sub claim is missing");
        if (Text(payload[LegacyNamespaceClaim]) is not { Length: > 0 } ns) return Malformed("namespace claim is missing");
        if (Text(payload[LegacySecretNameClaim]) is not { Length: > 0 } secret) return Malformed("secretName claim is missing");
        if (Text(payload[LegacyAccountNameClaim]) is not { Length: > 0 } name) return Malformed("serviceAccountName claim is missing");
        if (Text(payload[LegacyAccountUidClaim]) is not { Length: > 0 } uid) return Malformed("serviceAccountUID claim is missing");
        var claims = new LegacyTokenClaims(ns, name, uid, secret);
        return subject == claims.Subject ? new DecodedLegacy(claims, null) : Malformed("sub claim is invalid");
    }

    public const string LegacyIssuer = "kubernetes/serviceaccount";
    private const string LegacyNamespaceClaim = "kubernetes.io/serviceaccount/namespace";
    private const string LegacySecretNameClaim = "kubernetes.io/serviceaccount/secret.name";
    private const string LegacyAccountNameClaim = "kubernetes.io/serviceaccount/service-account.name";
    private const string LegacyAccountUidClaim = "kubernetes.io/serviceaccount/service-account.uid";

    private static BoundObject? Bound(JsonNode? node) =>
        node is JsonObject o && Text(o["name"]) is { } name ? new BoundObject(name, Text(o["uid"]) ?? "") : null;

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static DateTimeOffset? Seconds(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<double>(out var seconds) ? DateTimeOffset.FromUnixTimeSeconds((long)seconds) : null;

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset time) => DateTimeOffset.FromUnixTimeSeconds(time.ToUnixTimeSeconds());

    /// <summary>Go's %q of a string slice.</summary>
    public static string Quote(IEnumerable<string> values) =>
        "[" + string.Join(" ", values.Select(v => "\"" + v.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"")) + "]";
}
