using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.Master.Api.Security;

/// <summary>
/// The API server's TLS identity: a self-signed CA made at first start (<c>ca.crt</c>, <c>ca.key</c>) and a serving
/// certificate it signs (<c>server.pfx</c>) for 127.0.0.1, localhost, the API address and the --tls-san names. Both
/// are kept in the data directory and reused; the serving certificate is re-issued when one of those is not among
/// its names or it nears expiry. deploy/up.sh embeds ca.crt in the kubeconfig.
/// </summary>
internal static class ServingCertificates
{
    public const string CaCertificateFile = "ca.crt";
    private const string CaKeyFile = "ca.key";
    private const string ServerPfxFile = "server.pfx";

    /// <summary><paramref name="extraNames"/>: IP addresses or DNS names clients also dial (--tls-san).</summary>
    public static X509Certificate2 LoadOrCreate(string dataDirectory, string apiAddress, IReadOnlyList<string>? extraNames = null)
    {
        extraNames ??= [];
        Directory.CreateDirectory(dataDirectory);
        var ca = LoadOrCreateCa(dataDirectory);
        var pfxPath = Path.Combine(dataDirectory, ServerPfxFile);
        if (File.Exists(pfxPath))
        {
            var existing = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, null);
            if (existing.NotAfter > DateTime.Now.AddDays(30) && Covers(existing, apiAddress) && extraNames.All(n => Covers(existing, n)) && existing.Issuer == ca.Subject)
                return existing;
        }
        var server = IssueServerCertificate(ca, apiAddress, extraNames);
        WritePrivate(pfxPath, server.Export(X509ContentType.Pkcs12));
        return X509CertificateLoader.LoadPkcs12(server.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>The cluster CA's certificate (without its key): what client certificates must chain to.</summary>
    public static X509Certificate2 LoadCaCertificate(string dataDirectory)
    {
        using var ca = LoadOrCreateCa(dataDirectory);
        return X509CertificateLoader.LoadCertificate(ca.RawData);
    }

    /// <summary>The cluster CA with its private key: what the client signers of CertificateSigningRequests sign with.</summary>
    public static X509Certificate2 LoadCaWithKey(string dataDirectory) => LoadOrCreateCa(dataDirectory);

    private static X509Certificate2 LoadOrCreateCa(string dataDirectory)
    {
        var certPath = Path.Combine(dataDirectory, CaCertificateFile);
        var keyPath = Path.Combine(dataDirectory, CaKeyFile);
        if (File.Exists(certPath) && File.Exists(keyPath))
            return X509Certificate2.CreateFromPemFile(certPath, keyPath);

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=orchestrator-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        var ca = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        File.WriteAllText(certPath, ca.ExportCertificatePem() + "\n");
        WritePrivate(keyPath, System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem() + "\n"));
        return ca;
    }

    /// <summary>Why a --tls-san value is refused (an entry neither an IP address nor a DNS name), or null.</summary>
    public static string? SubjectAlternativeNamesProblem(string value)
    {
        foreach (var name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (!IPAddress.TryParse(name, out _) && Uri.CheckHostName(name) != UriHostNameType.Dns)
                return $"\"{name}\" is neither an IP address nor a DNS name";
        return null;
    }

    private static X509Certificate2 IssueServerCertificate(X509Certificate2 ca, string apiAddress, IReadOnlyList<string> extraNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=orchestrator-apiserver", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        foreach (var name in InClusterNames) names.AddDnsName(name);
        names.AddIpAddress(IPAddress.Parse(Store.ClusterIpRange.First)); // the kubernetes Service's ClusterIP
        foreach (var name in new[] { apiAddress }.Concat(extraNames).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(name, out var ip))
            {
                if (!ip.Equals(IPAddress.Loopback)) names.AddIpAddress(ip);
            }
            else if (name != "localhost")
            {
                names.AddDnsName(name);
            }
        }
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1")], false)); // serverAuth
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        using var issued = request.Create(ca, now.AddMinutes(-5), now.AddYears(2), serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>The names pods reach the API server by (kube-apiserver's serving certificate has them too).</summary>
    private static readonly string[] InClusterNames =
        ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"];

    /// <summary>Whether a certificate covers the API address and the in-cluster names and ClusterIP (a certificate
    /// from before they were added, or from another service range, is issued again).</summary>
    private static bool Covers(X509Certificate2 certificate, string apiAddress)
    {
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (san is null) return false;
        if (!InClusterNames.All(san.EnumerateDnsNames().Contains) ||
            !san.EnumerateIPAddresses().Contains(IPAddress.Parse(Store.ClusterIpRange.First)))
            return false;
        return IPAddress.TryParse(apiAddress, out var ip)
            ? san.EnumerateIPAddresses().Contains(ip)
            : san.EnumerateDnsNames().Contains(apiAddress);
    }

    /// <summary>Writes a secret file readable by its owner only, from the moment it exists: a new file created 0600
    /// beside it and renamed over it, never written first and chmod-ed after (nor written into an older, wider file).</summary>
    public static void WritePrivate(string path, byte[] content)
    {
        if (OperatingSystem.IsWindows())
        {
            File.WriteAllBytes(path, content);
            return;
        }
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.Delete(temporary);
        using (var stream = new FileStream(temporary, new FileStreamOptions
               {
                   Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
               }))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
