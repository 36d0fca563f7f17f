using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.Shared.Protocol;

/// <summary>
/// The identities on the master → kubelet link, as Kubernetes names them. Each node holds a serving certificate the
/// master issued to it at registration (subject <c>CN=system:node:NAME, O=system:nodes</c>, an IP SAN for the node's
/// address, serverAuth), signed by the master's kubelet CA; the master connects with a client certificate of the same
/// CA (<c>CN=kube-apiserver-kubelet-client</c>, clientAuth). Each end checks the other against that CA only: the master
/// sends nothing to an endpoint that does not prove it is the node it means, and the node serves only the master.
/// </summary>
public static class KubeletTls
{
    public const string MasterClientName = "kube-apiserver-kubelet-client";
    public const string NodesGroup = "system:nodes";
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    public static string NodeUserName(string nodeName) => "system:node:" + nodeName;

    /// <summary>A node's PKCS#10 request (PEM) for its serving certificate; the master decides the names it gets.</summary>
    public static string SigningRequest(ECDsa key, string nodeName, IPAddress address)
    {
        var request = new CertificateRequest(Subject(NodeUserName(nodeName), NodesGroup), key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(address);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSigningRequestPem();
    }

    /// <summary>The certificate the master issued (PEM) joined with the node's key; null when it is not for that key.</summary>
    public static X509Certificate2? WithKey(string certificatePem, ECDsa key)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        using var ours = certificate.GetECDsaPublicKey();
        if (ours is null || !ours.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo())) return null;
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>Null when <paramref name="presented"/> is the serving certificate the CA issued to node
    /// <paramref name="nodeName"/> for <paramref name="address"/>; otherwise why not.</summary>
    public static string? CheckServing(X509Certificate2? presented, X509Certificate2 ca, string nodeName, string address)
    {
        if (presented is null) return "no certificate presented";
        if (Chain(presented, ca, ServerAuth) is { } chainError) return chainError;
        var name = presented.GetNameInfo(X509NameType.SimpleName, false);
        if (name != NodeUserName(nodeName)) return $"the certificate is for \"{name}\", not \"{NodeUserName(nodeName)}\"";
        if (!IPAddress.TryParse(address, out var ip)) return $"\"{address}\" is not an IP address";
        var san = presented.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        return san is not null && san.EnumerateIPAddresses().Contains(ip) ? null : $"the certificate is not valid for {address}";
    }

    /// <summary>Null when <paramref name="presented"/> is the master's kubelet client certificate; otherwise why not.</summary>
    public static string? CheckMasterClient(X509Certificate2? presented, X509Certificate2 ca)
    {
        if (presented is null) return "no client certificate presented";
        if (Chain(presented, ca, ClientAuth) is { } chainError) return chainError;
        var name = presented.GetNameInfo(X509NameType.SimpleName, false);
        return name == MasterClientName ? null : $"the client certificate is for \"{name}\", not \"{MasterClientName}\"";
    }

    private static string? Chain(X509Certificate2 presented, X509Certificate2 ca, Oid usage)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(usage);
        if (!chain.Build(presented))
            return "the certificate is not valid for the cluster's kubelet CA: " +
                   string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        var root = chain.ChainElements[^1].Certificate;
        return root.RawData.AsSpan().SequenceEqual(ca.RawData) ? null : "the certificate is not issued by the cluster's kubelet CA";
    }

    internal static X500DistinguishedName Subject(string commonName, string organization)
    {
        // encoded O first, then CN, as Kubernetes' certificates are ("CN=…, O=…" in .NET's reversed notation)
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(commonName);
        builder.AddOrganizationName(organization);
        return builder.Build();
    }
}

/// <summary>
/// The master's kubelet CA: it signs the nodes' serving certificates (from their registration's signing request,
/// with the names the master decides) and the master's own kubelet client certificate. Nothing else trusts it: the
/// API's serving CA and the cluster transport's certificate are separate identities. (The nodes' client certificates
/// are the cluster CA's: <see cref="NodeClientCertificateAuthority"/>.)
/// </summary>
public sealed class KubeletCertificateAuthority
{
    /// <summary>How long a node's serving certificate lasts; the node registers again for a new one well before.</summary>
    public static readonly TimeSpan ServingValidity = TimeSpan.FromDays(365);
    private static readonly TimeSpan ClientValidity = TimeSpan.FromDays(365);
    private readonly X509Certificate2 _ca;
    private readonly object _gate = new();
    private X509Certificate2? _client;

    /// <param name="ca">The CA certificate with its private key.</param>
    public KubeletCertificateAuthority(X509Certificate2 ca)
    {
        if (!ca.HasPrivateKey) throw new ArgumentException("the kubelet CA needs its private key", nameof(ca));
        _ca = ca;
        Certificate = X509CertificateLoader.LoadCertificate(ca.RawData);
        CertificatePem = Certificate.ExportCertificatePem();
    }

    /// <summary>The CA certificate alone (no key): what both ends trust.</summary>
    public X509Certificate2 Certificate { get; }

    public string CertificatePem { get; }

    /// <summary>A new self-signed CA (ECDSA P-256, ten years).</summary>
    public static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=orchestrator-kubelet-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
    }

    /// <summary>Signs node <paramref name="nodeName"/>'s request: the subject and the one IP SAN are the master's
    /// (what the request asked for is ignored); the request's signature must hold. Returns the certificate as PEM.</summary>
    public string IssueServing(string signingRequestPem, string nodeName, IPAddress address)
    {
        var asked = CertificateRequest.LoadSigningRequestPem(signingRequestPem, HashAlgorithmName.SHA256,
            CertificateRequestLoadOptions.Default); // checks the request's signature: the node holds the key
        var request = new CertificateRequest(KubeletTls.Subject(KubeletTls.NodeUserName(nodeName), KubeletTls.NodesGroup),
            asked.PublicKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(address);
        request.CertificateExtensions.Add(names.Build(critical: false));
        AddLeafExtensions(request, "1.3.6.1.5.5.7.3.1");
        using var issued = Sign(request, ServingValidity);
        return issued.ExportCertificatePem();
    }

    /// <summary>The master's client certificate with its key, made on first use and again near its expiry.</summary>
    public X509Certificate2 ClientCertificate()
    {
        lock (_gate)
        {
            if (_client is { } current && current.NotAfter.ToUniversalTime() > DateTime.UtcNow.AddDays(30)) return current;
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(KubeletTls.Subject(KubeletTls.MasterClientName, "system:masters"), key, HashAlgorithmName.SHA256);
            AddLeafExtensions(request, "1.3.6.1.5.5.7.3.2");
            using var issued = Sign(request, ClientValidity);
            using var withKey = issued.CopyWithPrivateKey(key);
            // through PKCS#12 so the key is usable by SslStream on every platform
            _client = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
            return _client;
        }
    }

    private void AddLeafExtensions(CertificateRequest request, string usage)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));
    }

    private X509Certificate2 Sign(CertificateRequest request, TimeSpan validity)
    {
        var now = DateTimeOffset.UtcNow;
        var notAfter = now + validity < _ca.NotAfter ? now + validity : new DateTimeOffset(_ca.NotAfter.ToUniversalTime());
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        return request.Create(_ca, now.AddMinutes(-5), notAfter, serial);
    }
}
