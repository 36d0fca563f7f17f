using System.Security.Cryptography;
using System.Text;
using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master.Api.Security;

/// <summary>
/// Requires <c>Authorization: Bearer {token}</c> on every API call except health and version, answering 401 with
/// a Status otherwise. One static token (written to the data directory at first start) is the whole user model.
/// </summary>
internal sealed class BearerTokenAuthentication(RequestDelegate next, string token)
{
    /// <summary>Paths served without a bearer token, as a real API server serves them to anyone.</summary>
    public static readonly IReadOnlySet<string> AnonymousPaths =
        new HashSet<string>(StringComparer.Ordinal) { "/healthz", "/livez", "/readyz", "/version" };

    private readonly byte[] _expected = Encoding.UTF8.GetBytes("Bearer " + token);

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (AnonymousPaths.Contains(path) || IsHealthCheck(path) || Authorized(context))
            return next(context);
        return StatusResponses.WriteAsync(context, ApiException.Unauthorized());
    }

    /// <summary>A named check under a health path; a path with "." or ".." segments names none (paths are matched as
    /// the client sent them, so "/healthz/../api/v1/secrets" must not pass as a health check).</summary>
    private static bool IsHealthCheck(string path) =>
        (path.StartsWith("/healthz/", StringComparison.Ordinal) || path.StartsWith("/livez/", StringComparison.Ordinal) ||
         path.StartsWith("/readyz/", StringComparison.Ordinal)) &&
        path.Split('/').Skip(2).All(segment => segment is not ("." or "..") && !segment.Contains('%'));

    private bool Authorized(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header), _expected);
    }
}
