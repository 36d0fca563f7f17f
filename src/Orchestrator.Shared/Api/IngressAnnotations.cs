using System.Globalization;

namespace Orchestrator.Shared.Api;

/// <summary>
/// The Ingress annotations the node's ingress reads (orchestrator.dev/…, named and valued as ingress-nginx's), shared by
/// the node, which applies them, and the master, which warns about unknown ones and bad values when an Ingress is written.
/// </summary>
public static class IngressAnnotations
{
    public const string AnnotationPrefix = "orchestrator.dev/";
    public const string RewriteTarget = AnnotationPrefix + "rewrite-target";
    public const string ProxyReadTimeout = AnnotationPrefix + "proxy-read-timeout";
    public const string ProxyBodySize = AnnotationPrefix + "proxy-body-size";
    public const string SslRedirect = AnnotationPrefix + "ssl-redirect";
    public const string Affinity = AnnotationPrefix + "affinity";
    public const string SessionCookieName = AnnotationPrefix + "session-cookie-name";
    public const string SessionCookiePath = AnnotationPrefix + "session-cookie-path";
    public const string SessionCookieMaxAge = AnnotationPrefix + "session-cookie-max-age";
    public const string BackendProtocol = AnnotationPrefix + "backend-protocol";
    public const string Canary = AnnotationPrefix + "canary";
    public const string CanaryWeight = AnnotationPrefix + "canary-weight";
    public const string CanaryByHeader = AnnotationPrefix + "canary-by-header";
    public const string CanaryByCookie = AnnotationPrefix + "canary-by-cookie";
    public const string UseRegex = AnnotationPrefix + "use-regex";

    /// <summary>The annotations the node's ingress reads; the master warns about any other of the prefix.</summary>
    public static readonly IReadOnlyList<string> Known =
    [
        RewriteTarget, ProxyReadTimeout, ProxyBodySize, SslRedirect, Affinity, SessionCookieName, SessionCookiePath, SessionCookieMaxAge,
        BackendProtocol, Canary, CanaryWeight, CanaryByHeader, CanaryByCookie, UseRegex,
    ];

    /// <summary>The backend-protocol values the node speaks to pods (ingress-nginx's AUTO_HTTP, FCGI and AJP are not).</summary>
    public static readonly IReadOnlyList<string> BackendProtocols = ["HTTP", "HTTPS", "GRPC", "GRPCS"];

    /// <summary>nginx's default name of the affinity cookie, kept so that manifests written for it behave alike.</summary>
    public const string DefaultCookieName = "INGRESSCOOKIE";

    /// <summary>What is wrong with an orchestrator.dev/ annotation (unknown, or a value it does not take), or null:
    /// the node logs it, the master returns it as a warning when the Ingress is written.</summary>
    public static string? Problem(string key, string value)
    {
        var valid = key switch
        {
            RewriteTarget or SessionCookiePath => value.StartsWith('/'),
            ProxyReadTimeout or SessionCookieMaxAge => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0,
            ProxyBodySize => ParseSize(value) is not null,
            SslRedirect or Canary or UseRegex => value is "true" or "false",
            Affinity => value == "cookie",
            SessionCookieName => value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'),
            BackendProtocol => BackendProtocols.Contains(value.ToUpperInvariant()),
            CanaryWeight => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var weight) && weight <= 100,
            CanaryByHeader => value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'),
            CanaryByCookie => value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'),
            _ => (bool?)null,
        };
        return valid switch
        {
            null => $"annotation {key} is not supported (supported: {string.Join(", ", Known)})",
            false => $"annotation {key}: '{value}' is not a valid value",
            true => null,
        };
    }

    public static long? ParseSize(string value)
    {
        if (value.Length == 0) return null;
        var multiplier = char.ToLowerInvariant(value[^1]) switch { 'k' => 1024L, 'm' => 1024L * 1024, 'g' => 1024L * 1024 * 1024, _ => 1L };
        var digits = multiplier == 1 ? value : value[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n * multiplier : null;
    }
}
