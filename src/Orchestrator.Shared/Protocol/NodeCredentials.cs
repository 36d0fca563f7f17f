using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Orchestrator.Shared.Protocol;

/// <summary>
/// A node's own identity on the node protocol, as Kubernetes gives a kubelet its client certificate: <c>CN=system:node:NAME,
/// O=system:nodes</c>, clientAuth, signed by the cluster CA (<see cref="NodeClientCertificateAuthority"/>; with its key it is
/// also the node's API credential). Every <see cref="RegisterNode"/> carries a
/// <see cref="NodeCredential"/>: the certificate (once the node has one) and a signing request for the node's key, with a
/// signature by that key over the node's name, the registering agent's actor address and the time. The address makes the
/// proof fresh for this connection: the master checks it against the sender it received the message from (the cluster
/// guard ties that to the TCP peer), so a proof seen elsewhere is no use to another member; the time bounds its reuse.
/// The cluster certificate every member holds is only the join credential (kube's bootstrap token): with it a node may
/// ask for the certificate of a name that has none yet; once a name has one, registering as it needs that certificate.
/// </summary>
public static class NodeCredentials
{
    /// <summary>How far the signed time may be from the master's clock.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>How long a node's client certificate lasts; the master renews it at a registration in its last third.</summary>
    public static readonly TimeSpan ClientValidity = TimeSpan.FromDays(365);

    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>A node's PKCS#10 request (PEM) for its client certificate; the master decides the subject.</summary>
    public static string SigningRequest(ECDsa key, string nodeName) =>
        new CertificateRequest(KubeletTls.Subject(KubeletTls.NodeUserName(nodeName), KubeletTls.NodesGroup), key, HashAlgorithmName.SHA256)
            .CreateSigningRequestPem();

    /// <summary>The credential for one registration of <paramref name="nodeName"/> by the agent at <paramref name="agent"/>.</summary>
    public static NodeCredential Sign(ECDsa key, string nodeName, string agent, DateTime now, string? certificate, string signingRequest)
    {
        var signedAt = now.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var signature = key.SignData(Payload(nodeName, agent, signedAt), HashAlgorithmName.SHA256);
        return new NodeCredential(certificate, signingRequest, signedAt, agent, Convert.ToBase64String(signature));
    }

    /// <summary>Null when <paramref name="credential"/> is signed by <paramref name="key"/> for <paramref name="nodeName"/>,
    /// the agent <paramref name="sender"/> and a time within <see cref="MaxClockSkew"/> of <paramref name="now"/>; otherwise why not.</summary>
    public static string? CheckProof(NodeCredential credential, ECDsa key, string nodeName, string sender, DateTime now)
    {
        if (credential.Agent != sender) return $"the credential was signed for agent {credential.Agent}, not the sender {sender}";
        if (!DateTime.TryParse(credential.SignedAt, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var signedAt))
            return $"the credential's time \"{credential.SignedAt}\" is not a timestamp";
        if ((now.ToUniversalTime() - signedAt).Duration() > MaxClockSkew)
            return $"the credential was signed at {signedAt:O}, more than {MaxClockSkew.TotalMinutes:0} minutes from the master's clock ({now:O})";
        byte[] signature;
        try { signature = Convert.FromBase64String(credential.Signature); }
        catch (FormatException) { return "the credential's signature is not base64"; }
        return key.VerifyData(Payload(nodeName, credential.Agent, credential.SignedAt), signature, HashAlgorithmName.SHA256)
            ? null
            : "the credential's signature does not verify with its key";
    }

    /// <summary>Null when <paramref name="certificate"/> is a client certificate of <paramref name="ca"/> for node
    /// <paramref name="nodeName"/>, valid at <paramref name="now"/>; otherwise why not.</summary>
    public static string? CheckCertificate(X509Certificate2 certificate, X509Certificate2 ca, string nodeName, DateTime now)
    {
        var user = KubeletTls.NodeUserName(nodeName);
        var name = certificate.GetNameInfo(X509NameType.SimpleName, false);
        if (name != user) return $"the certificate is for \"{name}\", not \"{user}\"";
        if (!certificate.SubjectName.EnumerateRelativeDistinguishedNames()
                .Any(n => n.GetSingleElementType().Value == "2.5.4.10" && n.GetSingleElementValue() == KubeletTls.NodesGroup))
            return $"the certificate is not in group \"{KubeletTls.NodesGroup}\"";
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuth);
        chain.ChainPolicy.VerificationTime = now.ToLocalTime();
        if (!chain.Build(certificate))
            return "the certificate is not valid for the cluster's CA: " +
                   string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        return chain.ChainElements[^1].Certificate.RawData.AsSpan().SequenceEqual(ca.RawData) ? null : "the certificate is not issued by the cluster's CA";
    }

    /// <summary>Whether <paramref name="certificate"/> certifies <paramref name="key"/>.</summary>
    public static bool IsFor(X509Certificate2 certificate, ECDsa key)
    {
        using var ours = certificate.GetECDsaPublicKey();
        return ours is not null && ours.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo());
    }

    private static byte[] Payload(string nodeName, string agent, string signedAt) =>
        Encoding.UTF8.GetBytes($"orchestrator node registration\n{KubeletTls.NodeUserName(nodeName)}\n{agent}\n{signedAt}");
}
