using System.Security.Cryptography.X509Certificates;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Api.Security;

/// <summary>
/// The kubelet CA on disk: <c>{data-dir}/kubelet-ca.crt</c> and <c>kubelet-ca.key</c> (mode 0600), made at first start
/// and reused, so the nodes' serving certificates stay valid across master restarts. A CA of its own (not
/// <c>ca.crt</c>): it vouches only for kubelet endpoints and the master's kubelet client.
/// </summary>
internal static class KubeletCaFiles
{
    public const string CertificateFile = "kubelet-ca.crt";
    public const string KeyFile = "kubelet-ca.key";

    public static KubeletCertificateAuthority LoadOrCreate(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var certPath = Path.Combine(dataDirectory, CertificateFile);
        var keyPath = Path.Combine(dataDirectory, KeyFile);
        if (!File.Exists(certPath) || !File.Exists(keyPath))
        {
            using var created = KubeletCertificateAuthority.CreateCertificate();
            using var key = created.GetECDsaPrivateKey()!;
            ServingCertificates.WritePrivate(keyPath, System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem() + "\n"));
            File.WriteAllText(certPath, created.ExportCertificatePem() + "\n");
        }
        return new KubeletCertificateAuthority(X509Certificate2.CreateFromPemFile(certPath, keyPath));
    }
}
