using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.E2E;

/// <summary>A self-signed serving certificate for a server the test runs in its own process (a webhook, an extension API
/// server), valid two hours: the certificate with its key for Kestrel, and its PEM, which the cluster is given as the
/// caBundle.</summary>
internal static class TestServingCertificate
{
    public static (X509Certificate2 Certificate, string Pem) Create(string commonName, string dnsName, bool loopback)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        if (loopback) san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(2));
        return (X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null), created.ExportCertificatePem());
    }
}
