using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master.Api.Security;

/// <summary>
/// Authenticates every API call as kube-apiserver's union authenticator does, and puts the user into the request
/// (<see cref="RequestUser"/>): a client certificate issued by the cluster CA (user = CN, groups = O; the TLS listener
/// requests one but does not require it), else the bearer token written at first start (user "admin" in
/// system:masters), else a ServiceAccount JWT (<see cref="ITokenAuthenticator"/>). A bearer token that none of them
/// accepts is a 401, as kube-apiserver answers an invalid token even on a path anonymous users may read. Every authenticated user is also in system:authenticated. Anonymous requests are refused with 401
/// except health and version, which a real API server serves to anyone.
/// </summary>
internal sealed class RequestAuthentication(RequestDelegate next, string token, X509Certificate2 clusterCa,
    IEnumerable<ITokenAuthenticator> tokenAuthenticators)
{
    /// <summary>Paths served without credentials, as a real API server serves them to anyone.</summary>
    public static readonly IReadOnlySet<string> AnonymousPaths =
        new HashSet<string>(StringComparer.Ordinal) { "/healthz", "/livez", "/readyz", "/version" };

    private readonly byte[] _expected = Encoding.UTF8.GetBytes("Bearer " + token);

    /// <summary>The client certificate a master that does not hold the control plane accepted from its client, in the
    /// request it forwards here (base64 DER). Believed only together with the admin token, which only masters (and
    /// system:masters' own kubeconfigs) hold.</summary>
    public const string ForwardedClientCertificateHeader = "X-Orchestrator-Forwarded-Client-Certificate";

    public Task InvokeAsync(HttpContext context)
    {
        // The common case without an await (and without a state machine of this layer): no forwarded certificate, the
        // connection's certificate (or that there is none) known at once, and a user from it or the admin token.
        // Anything else — another token, no credentials, a certificate still to come — is the full path below.
        if (context.Request.Headers[ForwardedClientCertificateHeader].Count == 0 && KnownCertificate(context, out var certificate) &&
            ((certificate is null ? null : ClientCertificates.UserOfConnection(certificate, clusterCa, DateTime.UtcNow))
             ?? FromToken(context)) is { } user)
        {
            RequestUser.Set(context, user);
            return next(context);
        }
        return AuthenticateAsync(context);
    }

    /// <summary>The connection's client certificate when it is known without waiting (it always is on a connection whose
    /// certificate is asked for at the handshake, as the API's are): null for plain HTTP or a client without one.</summary>
    private static bool KnownCertificate(HttpContext context, out X509Certificate2? certificate)
    {
        certificate = null;
        if (!context.Request.IsHttps) return true;
        certificate = context.Connection.ClientCertificate;
        if (certificate is not null) return true;
        var pending = context.Connection.GetClientCertificateAsync();
        if (!pending.IsCompletedSuccessfully) return false;
        certificate = pending.Result;
        return true;
    }

    private async Task AuthenticateAsync(HttpContext context)
    {
        if (context.Request.Headers[ForwardedClientCertificateHeader].ToString() is { Length: > 0 } forwarded && FromToken(context) is not null)
        {
            // the peer master's own credential stands for its client's certificate, never for itself
            context.Request.Headers.Remove(ForwardedClientCertificateHeader);
            context.Request.Headers.Authorization = default;
            if (ForwardedUser(forwarded) is { } client)
            {
                RequestUser.Set(context, client);
                await next(context);
            }
            else await StatusResponses.WriteAsync(context, ApiException.Unauthorized());
            return;
        }
        var user = await FromCertificateAsync(context) ?? FromToken(context);
        if (user is null && BearerOf(context) is { } bearer)
        {
            user = await FromOtherTokensAsync(bearer, context.RequestAborted);
            if (user is null)
            {
                await StatusResponses.WriteAsync(context, ApiException.Unauthorized());
                return;
            }
        }
        if (user is not null)
        {
            RequestUser.Set(context, user);
            await next(context);
            return;
        }
        var path = context.Request.Path.Value ?? "";
        if (AnonymousPaths.Contains(path) || IsHealthCheck(path))
        {
            await next(context);
            return;
        }
        await StatusResponses.WriteAsync(context, ApiException.Unauthorized());
    }

    /// <summary>A named check under a health path; a path with "." or ".." segments names none (paths are matched as
    /// the client sent them, so "/healthz/../api/v1/secrets" must not pass as a health check).</summary>
    public static bool IsHealthCheck(string path) =>
        (path.StartsWith("/healthz/", StringComparison.Ordinal) || path.StartsWith("/livez/", StringComparison.Ordinal) ||
         path.StartsWith("/readyz/", StringComparison.Ordinal)) &&
        path.Split('/').Skip(2).All(segment => segment is not ("." or "..") && !segment.Contains('%'));

    private UserInfo? FromToken(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length == 0) return null;
        // compared in a stack buffer when it fits: this runs on every request
        var length = Encoding.UTF8.GetByteCount(header);
        Span<byte> bytes = length <= 512 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(header, bytes);
        return CryptographicOperations.FixedTimeEquals(bytes, _expected) ? UserInfo.Admin : null;
    }

    /// <summary>The bearer token of the Authorization header, or null (none, or another scheme).</summary>
    public static string? BearerOf(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header[7..].Trim() is { Length: > 0 } bearer
            ? bearer
            : null;
    }

    private async Task<UserInfo?> FromOtherTokensAsync(string bearer, CancellationToken cancellationToken)
    {
        foreach (var authenticator in tokenAuthenticators)
        {
            var result = await authenticator.AuthenticateAsync(bearer, null, cancellationToken);
            if (result.User is not null) return result.User;
            if (result.Error is not null) return null;
        }
        return null;
    }

    private UserInfo? ForwardedUser(string base64)
    {
        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(base64));
            return ClientCertificates.UserOf(certificate, clusterCa, DateTime.UtcNow);
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return null;
        }
    }

    private async Task<UserInfo?> FromCertificateAsync(HttpContext context)
    {
        if (!context.Request.IsHttps) return null;
        var certificate = context.Connection.ClientCertificate ?? await context.Connection.GetClientCertificateAsync();
        return certificate is null ? null : ClientCertificates.UserOfConnection(certificate, clusterCa, DateTime.UtcNow);
    }
}

/// <summary>k8s.io/apiserver's x509 authenticator: a chain to the cluster CA, valid now, for client authentication;
/// the user is the subject's common name and the groups its organizations.</summary>
internal static class ClientCertificates
{
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    /// <summary>A certificate accepted by <see cref="UserOf"/>: against which CA, as whom, and while which time its
    /// chain is valid (the latest NotBefore and earliest NotAfter of its elements).</summary>
    private sealed record Accepted(X509Certificate2 Ca, UserInfo User, DateTime FromUtc, DateTime ToUtc);

    /// <summary>Accepted connection certificates: a TLS connection presents the same certificate object on each of its
    /// requests, so the chain is built once per connection instead of once per request; the entry goes with the object.</summary>
    private static readonly ConditionalWeakTable<X509Certificate2, Accepted> AcceptedCertificates = new();

    /// <summary>Accepted certificates by their DER bytes' SHA-256, with the bytes: a client's next connection (kubectl
    /// with a certificate opens one per command) presents a new object of the same bytes, whose chain is the same.</summary>
    private static readonly ConcurrentDictionary<string, (byte[] Der, Accepted Accepted)> AcceptedByContent = new();

    /// <summary>At most this many certificates kept by content; when full, all are dropped.</summary>
    internal const int MaxAcceptedByContent = 4096;

    /// <summary><see cref="UserOf"/> for the certificate of a TLS connection: an accepted certificate's user is kept
    /// with the certificate object and by its bytes while its chain's validity includes <paramref name="now"/> (the
    /// same answer the chain would give: the same bytes make the same chain; the CA is compared and revocation is not
    /// checked). Refusals are not kept.</summary>
    public static UserInfo? UserOfConnection(X509Certificate2 certificate, X509Certificate2 ca, DateTime now)
    {
        var utc = now.ToUniversalTime();
        if (AcceptedCertificates.TryGetValue(certificate, out var accepted) && Holds(accepted, ca, utc)) return accepted.User;
        var der = certificate.RawDataMemory.Span;
        var key = Convert.ToHexString(SHA256.HashData(der));
        if (AcceptedByContent.TryGetValue(key, out var kept) && der.SequenceEqual(kept.Der) && Holds(kept.Accepted, ca, utc))
        {
            AcceptedCertificates.AddOrUpdate(certificate, kept.Accepted);
            return kept.Accepted.User;
        }
        var user = UserOf(certificate, ca, now, out var fromUtc, out var toUtc);
        if (user is null) return null;
        accepted = new Accepted(ca, user, fromUtc, toUtc);
        AcceptedCertificates.AddOrUpdate(certificate, accepted);
        if (AcceptedByContent.Count >= MaxAcceptedByContent) AcceptedByContent.Clear();
        AcceptedByContent[key] = (der.ToArray(), accepted);
        return user;
    }

    private static bool Holds(Accepted accepted, X509Certificate2 ca, DateTime utc) =>
        ReferenceEquals(accepted.Ca, ca) && accepted.FromUtc <= utc && utc <= accepted.ToUtc;

    public static UserInfo? UserOf(X509Certificate2 certificate, X509Certificate2 ca, DateTime now) =>
        UserOf(certificate, ca, now, out _, out _);

    private static UserInfo? UserOf(X509Certificate2 certificate, X509Certificate2 ca, DateTime now, out DateTime fromUtc,
        out DateTime toUtc)
    {
        fromUtc = DateTime.MaxValue;
        toUtc = DateTime.MinValue;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.ToLocalTime();
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(ClientAuth));
        if (!chain.Build(certificate)) return null;
        if (!chain.ChainElements[^1].Certificate.RawData.AsSpan().SequenceEqual(ca.RawData)) return null;
        var (commonName, organizations) = SubjectOf(certificate);
        if (string.IsNullOrEmpty(commonName)) return null;
        fromUtc = chain.ChainElements.Max(e => e.Certificate.NotBefore.ToUniversalTime());
        toUtc = chain.ChainElements.Min(e => e.Certificate.NotAfter.ToUniversalTime());
        return UserInfo.Of(commonName, organizations);
    }

    /// <summary>The subject's CN and every O, in order.</summary>
    public static (string? CommonName, IReadOnlyList<string> Organizations) SubjectOf(X509Certificate2 certificate)
    {
        string? cn = null;
        var organizations = new List<string>();
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.HasMultipleElements) continue;
            var oid = rdn.GetSingleElementType().Value;
            var value = rdn.GetSingleElementValue();
            if (value is null) continue;
            if (oid == "2.5.4.3") cn = value;
            else if (oid == "2.5.4.10") organizations.Add(value);
        }
        return (cn, organizations);
    }
}
