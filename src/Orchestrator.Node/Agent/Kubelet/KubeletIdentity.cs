using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Agent.Kubelet;

/// <summary>
/// The kubelet endpoint's TLS identity: a key made when the process starts (it never leaves the node), the signing
/// request the agent sends with each registration, and what the master answers — the serving certificate it issued to
/// this node and the CA the master's client certificate must come from. Until the master has answered, the endpoint
/// completes no handshake. Read by Kestrel's handshakes on any thread, set by the NodeAgent: one immutable snapshot.
/// </summary>
internal sealed class KubeletIdentity : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private volatile Issued? _issued;

    public KubeletIdentity(string nodeName, IPAddress address)
    {
        SigningRequest = KubeletTls.SigningRequest(_key, nodeName, address);
    }

    /// <summary>The PKCS#10 request (PEM) the agent sends in RegisterNode.</summary>
    public string SigningRequest { get; }

    /// <summary>The serving certificate with its key, or null before the master issued one.</summary>
    public X509Certificate2? ServingCertificate => _issued?.Certificate;

    /// <summary>When the current certificate expires (null: none yet).</summary>
    public DateTime? Expires => _issued?.Certificate.NotAfter.ToUniversalTime();

    /// <summary>Takes what the master sent in NodeRegistered. Null when accepted, otherwise why not (the certificate
    /// is not for this node's key, or not from that CA).</summary>
    public string? Accept(string certificatePem, string caPem)
    {
        X509Certificate2 ca, certificate;
        try
        {
            ca = X509Certificate2.CreateFromPem(caPem);
            certificate = KubeletTls.WithKey(certificatePem, _key) ?? throw new CryptographicException("the certificate is not for this node's key");
        }
        catch (CryptographicException e)
        {
            return e.Message;
        }
        // through PKCS#12 so that SslStream can use the ephemeral key on every platform
        var usable = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        certificate.Dispose();
        _issued = new Issued(usable, ca);
        return null;
    }

    /// <summary>Kestrel's client certificate check: only the master's kubelet client certificate, from the CA the
    /// master named at registration.</summary>
    public string? CheckClient(X509Certificate2? presented) =>
        _issued is { } issued ? KubeletTls.CheckMasterClient(presented, issued.Ca) : "the node has not been registered with a master yet";

    public void Dispose() => _key.Dispose();

    private sealed record Issued(X509Certificate2 Certificate, X509Certificate2 Ca);
}
