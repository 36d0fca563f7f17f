using System.Text;
using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master.Api.Security;

/// <summary>
/// Browsers cannot set an Authorization header on a WebSocket, so kube-apiserver also accepts the bearer token as a
/// subprotocol, <c>base64url.bearer.authorization.k8s.io.{base64url(token)}</c> (k8s.io/apiserver's websocket
/// ProtocolAuthenticator). This runs before authentication: on a WebSocket upgrade without an Authorization header it
/// moves the token into one and removes that protocol from the offered ones, so it is never echoed back or relayed.
/// Like Kubernetes it refuses two token protocols, a token that is not base64url UTF-8, and a token offered alone
/// (another subprotocol must remain to be chosen).
/// </summary>
public sealed class WebSocketBearerProtocol(RequestDelegate next, ILogger<WebSocketBearerProtocol> log)
{
    public const string Prefix = "base64url.bearer.authorization.k8s.io.";

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        if (!IsWebSocketRequest(context) || headers.Authorization.Count > 0) return next(context);
        string? token = null;
        var others = new List<string>();
        foreach (var value in headers.SecWebSocketProtocol)
        foreach (var part in (value ?? "").Split(','))
        {
            var protocol = part.Trim();
            if (!protocol.StartsWith(Prefix, StringComparison.Ordinal))
            {
                if (protocol.Length > 0) others.Add(protocol);
                continue;
            }
            if (token is not null) return Refuse(context, "multiple base64.bearer.authorization tokens specified");
            token = Decode(protocol[Prefix.Length..]);
            if (token is null) return Refuse(context, "invalid base64.bearer.authorization token encoding");
        }
        if (string.IsNullOrEmpty(token)) return next(context);
        if (others.Count == 0) return Refuse(context, "missing additional subprotocol");
        headers.Authorization = "Bearer " + token;
        headers.SecWebSocketProtocol = string.Join(", ", others);
        return next(context);
    }

    /// <summary>An HTTP/1.1 upgrade, or (what browsers use on an HTTP/2 connection to Kestrel) an extended CONNECT.</summary>
    internal static bool IsWebSocketRequest(HttpContext context) => context.WebSockets.IsWebSocketRequest || IsWebSocketUpgrade(context.Request);

    internal static bool IsWebSocketUpgrade(HttpRequest request) =>
        request.Headers.Connection.Any(v => v?.Contains("upgrade", StringComparison.OrdinalIgnoreCase) == true) &&
        request.Headers.Upgrade.Any(v => string.Equals(v, "websocket", StringComparison.OrdinalIgnoreCase));

    /// <summary>Unpadded base64url (RFC 4648 §5) to UTF-8 text; null when it is neither.</summary>
    internal static string? Decode(string encoded)
    {
        if (encoded.Length % 4 == 1 || encoded.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))) return null;
        var padded = encoded.Replace('-', '+').Replace('_', '/') + new string('=', (4 - encoded.Length % 4) % 4);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromBase64String(padded));
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            return null;
        }
    }

    // kube-apiserver answers a failed authentication with 401 Unauthorized whatever the authenticator's reason
    private Task Refuse(HttpContext context, string reason)
    {
        log.LogDebug("WebSocket bearer protocol refused: {Reason}", reason);
        return StatusResponses.WriteAsync(context, ApiException.Unauthorized());
    }
}
