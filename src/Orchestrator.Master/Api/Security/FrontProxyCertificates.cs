using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.Master.Api.Security;

/// <summary>
/// The aggregator's identity towards extension API servers, as kubeadm lays it out beside the cluster CA: a CA of its
/// own (<c>front-proxy-ca.crt</c>, <c>front-proxy-ca.key</c>, made at first start) and the client certificate it signs
/// (<c>front-proxy-client.crt</c>/<c>.key</c>, CN <c>front-proxy-client</c>, re-issued when it nears expiry or the CA
/// changed). Extension servers trust requests that present it and read the user from the X-Remote-* headers
/// (the requestheader scheme, published in kube-system/extension-apiserver-authentication).
/// </summary>
internal static class FrontProxyCertificates
{
    public const string ClientName = "front-proxy-client";
    private const string CaFile = "front-proxy-ca.crt";
    private const string CaKeyFile = "front-proxy-ca.key";
    private const string ClientFile = "front-proxy-client.crt";
    private const string ClientKeyFile = "front-proxy-client.key";

    public static FrontProxyIdentity LoadOrCreate(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        using var ca = LoadOrCreateCa(dataDirectory);
        var certPath = Path.Combine(dataDirectory, ClientFile);
        var keyPath = Path.Combine(dataDirectory, ClientKeyFile);
        X509Certificate2? client = null;
        if (File.Exists(certPath) && File.Exists(keyPath))
        {
            using var existing = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            if (existing.NotAfter > DateTime.Now.AddDays(30) && existing.Issuer == ca.Subject) client = Exportable(existing);
        }
        if (client is null)
        {
            using var issued = IssueClient(ca);
            File.WriteAllText(certPath, issued.ExportCertificatePem() + "\n");
            ServingCertificates.WritePrivate(keyPath, System.Text.Encoding.ASCII.GetBytes(issued.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n"));
            client = Exportable(issued);
        }
        using var clusterCa = ServingCertificates.LoadCaCertificate(dataDirectory);
        return new FrontProxyIdentity(client, ca.ExportCertificatePem() + "\n", clusterCa.ExportCertificatePem() + "\n");
    }

    /// <summary>SslStream on Linux wants a client certificate whose key it can use: a PKCS#12 round trip gives one.</summary>
    private static X509Certificate2 Exportable(X509Certificate2 certificate) =>
        X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);

    private static X509Certificate2 LoadOrCreateCa(string dataDirectory)
    {
        var certPath = Path.Combine(dataDirectory, CaFile);
        var keyPath = Path.Combine(dataDirectory, CaKeyFile);
        if (File.Exists(certPath) && File.Exists(keyPath)) return X509Certificate2.CreateFromPemFile(certPath, keyPath);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=front-proxy-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        var ca = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        File.WriteAllText(certPath, ca.ExportCertificatePem() + "\n");
        ServingCertificates.WritePrivate(keyPath, System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem() + "\n"));
        return ca;
    }

    private static X509Certificate2 IssueClient(X509Certificate2 ca)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + ClientName, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false)); // clientAuth
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(ca, now.AddMinutes(-5), now.AddYears(1), serial);
        return issued.CopyWithPrivateKey(key);
    }
}

/// <summary>The front-proxy client certificate (with its key), the front-proxy CA and the cluster CA as PEM: what the
/// aggregator presents, and what kube-system/extension-apiserver-authentication publishes.</summary>
internal sealed record FrontProxyIdentity(X509Certificate2 ClientCertificate, string FrontProxyCaPem, string ClientCaPem);
