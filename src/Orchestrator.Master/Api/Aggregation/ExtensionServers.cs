using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s.Models;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Api.Webhooks;

namespace Orchestrator.Master.Api.Aggregation;

/// <summary>
/// Connections to the extension API server behind an APIService's <c>spec.service</c>: a <see cref="PodTunnel"/> to a
/// ready endpoint of the Service (through the node's kubelet when it is a pod, so the master need not reach the pod
/// network), TLS end to end to the name <c>NAME.NAMESPACE.svc</c>, verified against <c>caBundle</c> (the system roots
/// without one; nothing with <c>insecureSkipTLSVerify</c>), presenting the front-proxy client certificate. Then one
/// request as the given user in the requestheader scheme's headers (<see cref="Http1Exchange"/>).
/// </summary>
internal sealed class ExtensionServers(PodTunnel tunnel, FrontProxyIdentity identity)
{
    /// <summary>The name the extension server's certificate must carry, as kube's service resolver names it.</summary>
    public static string HostOf(Apiregistrationv1ServiceReference service) => $"{service.Name}.{service.NamespaceProperty}.svc";

    public static int PortOf(Apiregistrationv1ServiceReference service) => service.Port ?? 443;

    public async Task<ExtensionServerAnswer> SendAsync(V1APIService api, string method, string target,
        IEnumerable<(string Name, string Value)> headers, Stream? body, long? contentLength, CancellationToken ct)
    {
        var service = api.Spec.Service!;
        var roots = Roots(api.Spec.CaBundle);
        var insecure = api.Spec.InsecureSkipTLSVerify == true;
        var raw = await tunnel.OpenAsync(service.NamespaceProperty, service.Name, PortOf(service), ct);
        var tls = new SslStream(raw, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = HostOf(service),
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                ClientCertificates = new X509CertificateCollection { identity.ClientCertificate },
                // (HTTP/1.1 only: the requestheader lines must stay separate)
                ApplicationProtocols = [SslApplicationProtocol.Http11],
                RemoteCertificateValidationCallback = insecure ? (_, _, _, _) => true
                    : roots is null ? null
                    : (_, certificate, chain, errors) => WebhookClients.Verify(roots, certificate, chain, errors),
            }, ct);
            var authority = PortOf(service) == 443 ? HostOf(service) : $"{HostOf(service)}:{PortOf(service)}";
            var response = await Http1Exchange.SendAsync(tls, method, target, authority, headers, body, contentLength, ct);
            return new ExtensionServerAnswer(response, tls);
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    /// <summary>The requestheader scheme's headers for a user (client-go's SetAuthProxyHeaders): X-Remote-User,
    /// X-Remote-Uid when there is one, one X-Remote-Group per group, one X-Remote-Extra-KEY per extra value (the key
    /// percent-encoded where a header name may not hold it).</summary>
    public static IEnumerable<(string Name, string Value)> UserHeaders(UserInfo user)
    {
        yield return ("X-Remote-User", user.Name);
        if (user.Uid.Length > 0) yield return ("X-Remote-Uid", user.Uid);
        foreach (var group in user.Groups) yield return ("X-Remote-Group", group);
        foreach (var (key, values) in user.Extra)
        foreach (var value in values)
            yield return ("X-Remote-Extra-" + EscapeHeaderKey(key), value);
    }

    /// <summary>client-go's headerKeyEscape: bytes that are not token characters, and '%', as %XX.</summary>
    internal static string EscapeHeaderKey(string key)
    {
        var result = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            if (b != '%' && (char.IsAsciiLetterOrDigit((char)b) || "!#$&'*+-.^_`|~".Contains((char)b))) result.Append((char)b);
            else result.Append('%').Append(b.ToString("X2"));
        }
        return result.ToString();
    }

    private static X509Certificate2Collection? Roots(byte[]? bundle)
    {
        if (bundle is not { Length: > 0 }) return null;
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPem(Encoding.UTF8.GetString(bundle));
        }
        catch (CryptographicException e)
        {
            throw new IOException($"unable to load root certificates: {e.Message}");
        }
        return roots.Count == 0 ? throw new IOException("unable to load root certificates: unable to parse bytes as PEM block") : roots;
    }
}

/// <summary>An extension server's answer and the connection it came on (disposed with it).</summary>
internal sealed class ExtensionServerAnswer(Http1Response response, Stream connection) : IAsyncDisposable
{
    public Http1Response Response { get; } = response;

    public ValueTask DisposeAsync() => connection.DisposeAsync();
}
