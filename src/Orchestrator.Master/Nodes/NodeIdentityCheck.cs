using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Nodes;

/// <summary>The outcome of <see cref="NodeIdentityCheck.Check"/>: why the registration is refused, or the client
/// certificate to hand the node (null: it keeps the one it has).</summary>
internal sealed record NodeIdentityOutcome(string? Refusal, string? IssuedCertificate = null);

/// <summary>
/// Whether a registration proves <c>system:node:NAME</c> (see <see cref="NodeCredentials"/>), as kube-apiserver
/// authenticates a kubelet by its client certificate and kube's TLS bootstrapping gives it the first one. A valid
/// certificate of the cluster's CA for the name, with a fresh signature by its key for the sending agent, is accepted
/// (and renewed in its last third). One the kubelet CA signed (node certificates before they were the cluster CA's) is
/// accepted too and replaced at once by one of the cluster CA, which the API also accepts. Without one, a name nobody has a certificate for (<paramref name="claimed"/> false)
/// gets one for the key of the node's signing request: the cluster certificate every member holds is only the join
/// credential. A claimed name needs its certificate (or, at the master that issued it, the key it certifies: a request repeated before
/// the answer arrived). Pure.
/// </summary>
internal static class NodeIdentityCheck
{
    /// <summary>On a Node whose name has a client certificate (the time it was first issued): a registration needs it.
    /// Deleting the Node lets the name join anew, as a node that was removed from the cluster does.</summary>
    public const string CertificateIssuedAnnotation = "orchestrator.dev/node-certificate-issued";

    /// <param name="formerCa">The kubelet CA, which signed node certificates before <paramref name="ca"/> did; null: none.</param>
    /// <param name="certifiedKey">The public key (SubjectPublicKeyInfo) of the certificate this master issued for the name
    /// since it started (<see cref="KeyOf"/>); null: none.</param>
    public static NodeIdentityOutcome Check(RegisterNode register, string sender, bool claimed, NodeClientCertificateAuthority ca,
        X509Certificate2? formerCa, DateTime now, byte[]? certifiedKey = null)
    {
        var name = register.Node.Metadata.Name;
        if (register.Credential is not { } credential)
            return new(claimed
                ? $"no credential presented; node \"{name}\" has a node certificate and registering as it needs that certificate"
                : "no credential presented (a node certificate or a signing request for system:node:" + name + ")");
        string? certificateProblem = null;
        if (credential.Certificate is { } pem)
        {
            try
            {
                using var certificate = X509Certificate2.CreateFromPem(pem);
                certificateProblem = NodeCredentials.CheckCertificate(certificate, ca.Certificate, name, now);
                var former = certificateProblem is not null && formerCa is not null &&
                             NodeCredentials.CheckCertificate(certificate, formerCa, name, now) is null;
                if (certificateProblem is null || former)
                {
                    using var key = certificate.GetECDsaPublicKey();
                    if (key is null) return new("the node certificate's key is not ECDSA");
                    if (NodeCredentials.CheckProof(credential, key, name, sender, now) is { } proof) return new(proof);
                    return new(null, Renewal(certificate, credential, name, ca, now, always: former));
                }
            }
            catch (CryptographicException e)
            {
                certificateProblem = "the node certificate cannot be read: " + e.Message.Trim();
            }
        }
        // A registration without a certificate whose signing request is for the key this master certified for the name:
        // the node asked again before the certificate reached it (it registers once more when the master's membership
        // reaches it, and every few seconds until an answer arrives). The certificate only attests that key, and Bootstrap
        // checks the proof of possession of it as for the first request, so the repeat is answered as the first was.
        if (claimed && credential.Certificate is null && certifiedKey is not null && RequestsKey(credential.SigningRequest, certifiedKey))
            return Bootstrap(credential, name, sender, ca, now);
        if (claimed)
            return new($"node \"{name}\" has a node certificate and registering as it needs that certificate: " +
                       (certificateProblem ?? "none presented"));
        return Bootstrap(credential, name, sender, ca, now);
    }

    /// <summary>TLS bootstrapping: the first certificate of an unclaimed name, for the key that signed this registration.</summary>
    private static NodeIdentityOutcome Bootstrap(NodeCredential credential, string name, string sender, NodeClientCertificateAuthority ca, DateTime now)
    {
        try
        {
            var request = CertificateRequest.LoadSigningRequestPem(credential.SigningRequest, HashAlgorithmName.SHA256);
            using var key = request.PublicKey.GetECDsaPublicKey();
            if (key is null) return new("the signing request's key is not ECDSA");
            if (NodeCredentials.CheckProof(credential, key, name, sender, now) is { } proof) return new(proof);
            return new(null, ca.Issue(credential.SigningRequest, name));
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException) // ArgumentException: a member sent none
        {
            return new("the signing request cannot be used: " + e.Message.Trim());
        }
    }

    /// <summary>The public key (SubjectPublicKeyInfo) <paramref name="certificatePem"/> certifies; null when it has no ECDSA key.</summary>
    public static byte[]? KeyOf(string certificatePem)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        using var key = certificate.GetECDsaPublicKey();
        return key?.ExportSubjectPublicKeyInfo();
    }

    /// <summary>Whether <paramref name="signingRequestPem"/> asks for a certificate of the key <paramref name="key"/>.</summary>
    private static bool RequestsKey(string signingRequestPem, byte[] key)
    {
        try
        {
            var request = CertificateRequest.LoadSigningRequestPem(signingRequestPem, HashAlgorithmName.SHA256);
            using var asked = request.PublicKey.GetECDsaPublicKey();
            return asked is not null && asked.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>A new certificate for the same key when the presented one is in the last third of its life (or
    /// <paramref name="always"/>: it is the former CA's).</summary>
    private static string? Renewal(X509Certificate2 current, NodeCredential credential, string name, NodeClientCertificateAuthority ca,
        DateTime now, bool always)
    {
        var lifetime = current.NotAfter - current.NotBefore;
        if (!always && current.NotAfter.ToUniversalTime() - now.ToUniversalTime() > lifetime / 3) return null;
        try
        {
            using var held = current.GetECDsaPublicKey();
            if (held is null || !RequestsKey(credential.SigningRequest, held.ExportSubjectPublicKeyInfo())) return null;
            return ca.Issue(credential.SigningRequest, name);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
