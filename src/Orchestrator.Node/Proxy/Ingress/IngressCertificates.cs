using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Proxy.Ingress;

/// <summary>
/// The certificates of the ingress HTTPS listener, chosen per connection by the TLS server name (SNI): the
/// kubernetes.io/tls Secret an Ingress's TLS section names for that host, else a self-signed default certificate made at
/// start (as ingress-nginx's "Fake Certificate"). Swapped whole on every update; a Secret whose tls.crt/tls.key do not
/// load is reported once and its hosts get the default certificate.
/// </summary>
internal sealed class IngressCertificates
{
    private readonly ILogger _log;
    private volatile State _state;

    public IngressCertificates(ILogger log)
    {
        _log = log;
        _state = new State(IngressRoutes.Empty, new Dictionary<string, (string, X509Certificate2)>());
        Default = SelfSigned();
    }

    public X509Certificate2 Default { get; }

    public X509Certificate2 Select(string? serverName)
    {
        var state = _state;
        return state.Routes.CertificateFor(serverName) is { } secret && state.BySecret.TryGetValue(secret, out var loaded) ? loaded.Certificate : Default;
    }

    /// <summary>Takes the new routes and the TLS Secrets the master sent; certificates of unchanged Secrets are kept.</summary>
    public void Update(IngressRoutes routes, IReadOnlyList<V1Secret> secrets)
    {
        var previous = _state.BySecret;
        var next = new Dictionary<string, (string Version, X509Certificate2 Certificate)>(StringComparer.Ordinal);
        foreach (var secret in secrets)
        {
            var key = $"{secret.Metadata.NamespaceProperty ?? "default"}/{secret.Metadata.Name}";
            var version = $"{secret.Metadata.Uid}/{secret.Metadata.ResourceVersion}";
            if (previous.TryGetValue(key, out var known) && known.Version == version)
            {
                next[key] = known;
                continue;
            }
            try
            {
                var pem = Text(secret, "tls.crt");
                var keyPem = Text(secret, "tls.key");
                if (pem is null || keyPem is null) throw new CryptographicException("tls.crt or tls.key is missing");
                next[key] = (version, X509Certificate2.CreateFromPem(pem, keyPem));
            }
            catch (CryptographicException e)
            {
                _log.LogWarning("Ingress TLS secret {Secret} is unusable ({Error}); its hosts get the default certificate", key, e.Message);
            }
        }
        _state = new State(routes, next);
    }

    private static string? Text(V1Secret secret, string key) =>
        secret.Data?.TryGetValue(key, out var bytes) == true ? Encoding.UTF8.GetString(bytes)
        : secret.StringData?.TryGetValue(key, out var text) == true ? text : null;

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Orchestrator Ingress Default Certificate, O=Orchestrator", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("ingress.local");
        request.CertificateExtensions.Add(san.Build());
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pkcs12), null);
    }

    private sealed record State(IngressRoutes Routes, IReadOnlyDictionary<string, (string Version, X509Certificate2 Certificate)> BySecret);
}
