using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.Certificates;

/// <summary>How the built-in signers sign (kube-controller-manager's csrsigning): the cluster CA, the requested
/// duration capped at --cluster-signing-duration, certificates backdated five minutes.</summary>
internal sealed record CertificateSigningSettings(X509Certificate2 Ca, TimeSpan Duration)
{
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromDays(365);
}

/// <summary>What a signer decided about an approved request: issue this PEM certificate, or fail it with a reason.</summary>
internal abstract record SigningOutcome
{
    public sealed record Issued(byte[] Certificate) : SigningOutcome;

    public sealed record Refused(string Message) : SigningOutcome;
}

/// <summary>
/// The signers kube-controller-manager runs for client certificates: <c>kubernetes.io/kube-apiserver-client</c> (usages
/// limited to digital signature, key encipherment and client auth, client auth required) and
/// <c>kubernetes.io/kube-apiserver-client-kubelet</c> (ValidateKubeletClientCSR: O exactly system:nodes, CN
/// system:node:NAME, no subject alternative names, the kubelet's usages). Other signers are not ours: null.
/// </summary>
internal static class KubernetesSigners
{
    public const string KubeApiServerClient = "kubernetes.io/kube-apiserver-client";
    public const string KubeApiServerClientKubelet = "kubernetes.io/kube-apiserver-client-kubelet";

    private static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Short = TimeSpan.FromHours(8);

    public static SigningOutcome? Sign(V1CertificateSigningRequest csr, CertificateSigningSettings settings, DateTime now)
    {
        var spec = csr.Spec;
        if (spec?.SignerName is not (KubeApiServerClient or KubeApiServerClientKubelet)) return null;
        if (CertificateRequests.Parse(spec.Request) is not { Parsed: { } request })
            return new SigningOutcome.Refused("unable to parse csr");
        var usages = spec.Usages ?? [];
        var problem = spec.SignerName == KubeApiServerClient ? ClientUsagesProblem(usages) : KubeletClientProblem(request, usages);
        if (problem is not null) return new SigningOutcome.Refused(problem);
        var ttl = spec.ExpirationSeconds is { } seconds && TimeSpan.FromSeconds(seconds) < settings.Duration
            ? TimeSpan.FromSeconds(seconds) : settings.Duration;
        try
        {
            return new SigningOutcome.Issued(Issue(request, usages, settings.Ca, ttl, now));
        }
        catch (InvalidOperationException e)
        {
            return new SigningOutcome.Refused(e.Message);
        }
    }

    /// <summary>validAPIServerClientUsages.</summary>
    public static string? ClientUsagesProblem(IList<string> usages)
    {
        foreach (var usage in usages)
            if (usage is not ("digital signature" or "key encipherment" or "client auth"))
                return $"invalid usage for client certificate: {usage}";
        return usages.Contains("client auth") ? null : "missing required usage for client certificate: client auth";
    }

    /// <summary>ValidateKubeletClientCSR, in its order.</summary>
    public static string? KubeletClientProblem(ParsedCertificateRequest request, IList<string> usages)
    {
        if (request.Organizations is not ["system:nodes"]) return "subject organization is not system:nodes";
        if (request.DnsNames.Count > 0) return "DNS subjectAltNames are not allowed";
        if (request.EmailAddresses.Count > 0) return "Email subjectAltNames are not allowed";
        if (request.IpAddresses.Count > 0) return "IP subjectAltNames are not allowed";
        if (request.Uris.Count > 0) return "URI subjectAltNames are not allowed";
        if (!request.CommonName.StartsWith("system:node:", StringComparison.Ordinal))
            return "subject common name does not begin with system:node:";
        var set = usages.ToHashSet();
        if (!set.SetEquals(["digital signature", "key encipherment", "client auth"]) && !set.SetEquals(["digital signature", "client auth"]))
            return "usages did not match [client auth digital signature key encipherment]";
        return null;
    }

    /// <summary>PermissiveSigningPolicy: the request's subject, key and subject alternative names; the requested usages;
    /// not a CA; NotBefore now - 5m; NotAfter now + ttl (- 5m unless shorter than 8h), never past the CA's.</summary>
    private static byte[] Issue(ParsedCertificateRequest parsed, IList<string> usages, X509Certificate2 ca, TimeSpan ttl, DateTime now)
    {
        var request = new CertificateRequest(parsed.Request.SubjectName, parsed.Request.PublicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var keyUsage = usages.Aggregate(X509KeyUsageFlags.None, (flags, usage) => flags | KeyUsageOf(usage));
        if (keyUsage != X509KeyUsageFlags.None) request.CertificateExtensions.Add(new X509KeyUsageExtension(keyUsage, true));
        var extended = new OidCollection();
        foreach (var oid in usages.Select(ExtendedKeyUsageOf).OfType<string>().Distinct()) extended.Add(new Oid(oid));
        if (extended.Count > 0) request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(extended, false));
        foreach (var san in parsed.Request.CertificateExtensions.Where(e => e.Oid?.Value == "2.5.29.17"))
            request.CertificateExtensions.Add(new X509Extension(san.Oid!, san.RawData, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));

        var caNotAfter = ca.NotAfter.ToUniversalTime();
        if (now >= caNotAfter) throw new InvalidOperationException($"refusing to sign a certificate that expired in the past: NotAfter={caNotAfter:u}");
        var notBefore = now - Backdate;
        var notAfter = ttl < Short ? now + ttl : now + ttl - Backdate;
        if (notAfter > caNotAfter) notAfter = caNotAfter;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        // the request's key may be of another algorithm than the CA's (an RSA user key, an ECDSA CA): sign with the CA's key
        using var ecdsa = ca.GetECDsaPrivateKey();
        using var rsa = ecdsa is null ? ca.GetRSAPrivateKey() : null;
        var generator = ecdsa is not null ? X509SignatureGenerator.CreateForECDsa(ecdsa)
            : rsa is not null ? X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1)
            : throw new InvalidOperationException("the signer's CA has no usable private key");
        using var issued = request.Create(ca.SubjectName, generator, notBefore, notAfter, serial);
        return System.Text.Encoding.ASCII.GetBytes(issued.ExportCertificatePem() + "\n");
    }

    private static X509KeyUsageFlags KeyUsageOf(string usage) => usage switch
    {
        "signing" or "digital signature" => X509KeyUsageFlags.DigitalSignature,
        "content commitment" => X509KeyUsageFlags.NonRepudiation,
        "key encipherment" => X509KeyUsageFlags.KeyEncipherment,
        "key agreement" => X509KeyUsageFlags.KeyAgreement,
        "data encipherment" => X509KeyUsageFlags.DataEncipherment,
        "cert sign" => X509KeyUsageFlags.KeyCertSign,
        "crl sign" => X509KeyUsageFlags.CrlSign,
        "encipher only" => X509KeyUsageFlags.EncipherOnly,
        "decipher only" => X509KeyUsageFlags.DecipherOnly,
        _ => X509KeyUsageFlags.None,
    };

    private static string? ExtendedKeyUsageOf(string usage) => usage switch
    {
        "any" => "2.5.29.37.0",
        "server auth" => "1.3.6.1.5.5.7.3.1",
        "client auth" => "1.3.6.1.5.5.7.3.2",
        "code signing" => "1.3.6.1.5.5.7.3.3",
        "email protection" or "s/mime" => "1.3.6.1.5.5.7.3.4",
        "ipsec end system" => "1.3.6.1.5.5.7.3.5",
        "ipsec tunnel" => "1.3.6.1.5.5.7.3.6",
        "ipsec user" => "1.3.6.1.5.5.7.3.7",
        "timestamping" => "1.3.6.1.5.5.7.3.8",
        "ocsp signing" => "1.3.6.1.5.5.7.3.9",
        "microsoft sgc" => "1.3.6.1.4.1.311.10.3.3",
        "netscape sgc" => "2.16.840.1.113730.4.1",
        _ => null,
    };
}
