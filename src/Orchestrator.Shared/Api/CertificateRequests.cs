using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Orchestrator.Shared.Api;

/// <summary>A PKCS#10 request as the API server and the signers read it: its subject (CN and every O, in order) and
/// the subject alternative names it asks for.</summary>
public sealed record ParsedCertificateRequest(CertificateRequest Request, string CommonName, IReadOnlyList<string> Organizations,
    IReadOnlyList<string> DnsNames, IReadOnlyList<IPAddress> IpAddresses, IReadOnlyList<string> EmailAddresses, IReadOnlyList<string> Uris);

/// <summary>Reads <c>spec.request</c> as k8s.io/api's ParseCSR and x509.CertificateRequest.CheckSignature do: the first
/// PEM block must be a CERTIFICATE REQUEST whose signature verifies with its own key.</summary>
public static class CertificateRequests
{
    private const string SubjectAltNameOid = "2.5.29.17";

    /// <summary>The request, or the reason (kube's wording) it is not one.</summary>
    public static (ParsedCertificateRequest? Parsed, string? Error) Parse(byte[]? pem)
    {
        var text = Encoding.ASCII.GetString(pem ?? []);
        if (!PemEncoding.TryFind(text, out var fields) || text[fields.Label] is not "CERTIFICATE REQUEST")
            return (null, "PEM block type must be CERTIFICATE REQUEST");
        byte[] der;
        try
        {
            der = Convert.FromBase64String(text[fields.Base64Data].ToString());
        }
        catch (FormatException)
        {
            return (null, "PEM block type must be CERTIFICATE REQUEST");
        }
        CertificateRequest request;
        try
        {
            request = CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256,
                CertificateRequestLoadOptions.SkipSignatureValidation | CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (CryptographicException)
        {
            return (null, "asn1: structure error: malformed certificate request");
        }
        try
        {
            CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (CryptographicException)
        {
            return (null, request.PublicKey.Oid.Value == "1.2.840.10045.2.1"
                ? "x509: ECDSA verification failure" : "crypto/rsa: verification error");
        }
        catch (PlatformNotSupportedException)
        {
            return (null, "x509: cannot verify signature: algorithm unimplemented");
        }
        try
        {
            return (Describe(request), null);
        }
        catch (Exception e) when (e is AsnContentException or ArgumentException)
        {
            return (null, "x509: failed to parse subject alternative names");
        }
    }

    private static ParsedCertificateRequest Describe(CertificateRequest request)
    {
        string commonName = "";
        var organizations = new List<string>();
        foreach (var rdn in request.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.HasMultipleElements || rdn.GetSingleElementValue() is not { } value) continue;
            switch (rdn.GetSingleElementType().Value)
            {
                case "2.5.4.3": commonName = value; break;
                case "2.5.4.10": organizations.Add(value); break;
            }
        }
        var dns = new List<string>();
        var ips = new List<IPAddress>();
        var emails = new List<string>();
        var uris = new List<string>();
        foreach (var extension in request.CertificateExtensions.Where(e => e.Oid?.Value == SubjectAltNameOid))
            ReadAltNames(extension.RawData, dns, ips, emails, uris);
        return new ParsedCertificateRequest(request, commonName, organizations, dns, ips, emails, uris);
    }

    /// <summary>GeneralNames (RFC 5280 §4.2.1.6): rfc822Name [1], dNSName [2], uniformResourceIdentifier [6], iPAddress [7].</summary>
    private static void ReadAltNames(byte[] raw, List<string> dns, List<IPAddress> ips, List<string> emails, List<string> uris)
    {
        var names = new AsnReader(raw, AsnEncodingRules.DER).ReadSequence();
        while (names.HasData)
        {
            var tag = names.PeekTag();
            if (tag.TagClass != TagClass.ContextSpecific)
            {
                names.ReadEncodedValue();
                continue;
            }
            switch (tag.TagValue)
            {
                case 1: emails.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag)); break;
                case 2: dns.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag)); break;
                case 6: uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag)); break;
                case 7: ips.Add(new IPAddress(names.ReadOctetString(tag))); break;
                default: names.ReadEncodedValue(); break;
            }
        }
    }
}
