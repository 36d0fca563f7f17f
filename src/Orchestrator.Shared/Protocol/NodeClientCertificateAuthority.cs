using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.Shared.Protocol;

/// <summary>
/// What signs the nodes' client certificates (<see cref="NodeCredentials"/>): the cluster CA, the one the API
/// authenticates client certificates against, as kube's <c>kubernetes.io/kube-apiserver-client-kubelet</c> signer signs a
/// kubelet's. So a node's certificate and key are also its API credential — the user <c>system:node:NAME</c> in
/// <c>system:nodes</c>, which the Node authorizer and NodeRestriction confine — and nothing more: the subject is always
/// the master's, never the request's.
/// </summary>
public sealed class NodeClientCertificateAuthority
{
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");
    private readonly X509Certificate2 _ca;

    /// <param name="ca">The cluster CA's certificate with its private key.</param>
    public NodeClientCertificateAuthority(X509Certificate2 ca)
    {
        if (!ca.HasPrivateKey) throw new ArgumentException("the node client CA needs its private key", nameof(ca));
        _ca = ca;
        Certificate = X509CertificateLoader.LoadCertificate(ca.RawData);
    }

    /// <summary>The CA certificate alone (no key): what node certificates are checked against.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Signs node <paramref name="nodeName"/>'s request: <c>CN=system:node:NAME, O=system:nodes</c>, clientAuth,
    /// <see cref="NodeCredentials.ClientValidity"/> (never past the CA); the request's signature must hold (the node holds
    /// the key), what it asked for besides its key is ignored. Returns the certificate as PEM.</summary>
    public string Issue(string signingRequestPem, string nodeName)
    {
        var asked = CertificateRequest.LoadSigningRequestPem(signingRequestPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        var request = new CertificateRequest(KubeletTls.Subject(KubeletTls.NodeUserName(nodeName), KubeletTls.NodesGroup),
            asked.PublicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ClientAuth], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));
        var now = DateTimeOffset.UtcNow;
        var caNotAfter = new DateTimeOffset(_ca.NotAfter.ToUniversalTime());
        var notAfter = now + NodeCredentials.ClientValidity < caNotAfter ? now + NodeCredentials.ClientValidity : caNotAfter;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        using var issued = request.Create(_ca, now.AddMinutes(-5), notAfter, serial);
        return issued.ExportCertificatePem();
    }
}
