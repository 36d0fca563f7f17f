using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orchestrator.Shared.Protocol.Serialization;

namespace Orchestrator.Master.Api.Security;

/// <summary>
/// The cluster certificate: the one TLS identity that master and nodes present to each other on the cluster
/// transport (see <see cref="ClusterTls"/>). Made at first start into <c>{data-dir}/cluster.pfx</c> (mode 0600, with
/// its private key) and reused; a node receives a copy with <c>--cluster-cert</c>.
/// It is self-signed and pinned by thumbprint rather than issued by ca.crt: every peer must hold this exact key, so a
/// certificate the CA signed for another purpose (the API's serving certificate) never admits anyone to the cluster,
/// and no chain building against a custom root is needed on either end. Rotating it = deleting the file, restarting
/// the master and giving the nodes the new copy.
/// </summary>
internal static class ClusterCertificate
{
    public const string FileName = "cluster.pfx";

    public static X509Certificate2 LoadOrCreate(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(path)) ServingCertificates.WritePrivate(path, Create().Export(X509ContentType.Pkcs12));
        return ClusterTls.Load(path);
    }

    private static X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=orchestrator-cluster", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // serverAuth and clientAuth: both ends use it
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
    }
}
