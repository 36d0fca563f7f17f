using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s.Models;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Certificates;

/// <summary>Kubernetes' validation of certificates/v1 CertificateSigningRequests (pkg/apis/certificates/validation),
/// with its messages.</summary>
internal static class CertificateSigningRequestRules
{
    public const string LegacyUnknownSignerName = "kubernetes.io/legacy-unknown";

    public static readonly IReadOnlyList<string> KeyUsages = new[]
    {
        "signing", "digital signature", "content commitment", "key encipherment", "key agreement", "data encipherment",
        "cert sign", "crl sign", "encipher only", "decipher only", "any", "server auth", "client auth", "code signing",
        "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
        "microsoft sgc", "netscape sgc",
    }.Order(StringComparer.Ordinal).ToList();

    private static readonly string[] TrueOnlyConditions = [CertificateSigningRequestStrategy.Approved,
        CertificateSigningRequestStrategy.Denied, CertificateSigningRequestStrategy.Failed];

    public static void Validate(V1CertificateSigningRequest csr, List<StoreErrorCause> causes)
    {
        var spec = csr.Spec ?? new V1CertificateSigningRequestSpec();
        if (CertificateRequests.Parse(spec.Request).Error is { } error)
            causes.Add(FieldErrors.Invalid("spec.request", GoBytes(spec.Request), error));
        var usages = spec.Usages ?? [];
        if (usages.Count == 0) causes.Add(FieldErrors.Required("spec.usages", "usages must be provided"));
        for (var i = 0; i < usages.Count; i++)
            if (!KeyUsages.Contains(usages[i])) causes.Add(FieldErrors.NotSupported($"spec.usages[{i}]", usages[i], KeyUsages));
        for (var i = 0; i < usages.Count; i++)
            if (usages.Take(i).Contains(usages[i])) causes.Add(FieldErrors.Duplicate($"spec.usages[{i}]", usages[i]));
        if (spec.SignerName == LegacyUnknownSignerName)
            causes.Add(FieldErrors.Invalid("spec.signerName", spec.SignerName, "the legacy signerName is not allowed via this API version"));
        else ValidateSignerName("spec.signerName", spec.SignerName ?? "", causes);
        if (spec.ExpirationSeconds is < 600)
            causes.Add(FieldErrors.Invalid("spec.expirationSeconds", spec.ExpirationSeconds.Value,
                "may not specify a duration less than 600 seconds (10 minutes)"));
        ValidateConditions(csr.Status?.Conditions ?? [], causes);
        if (CertificateProblem(csr.Status?.Certificate) is { } problem)
            causes.Add(FieldErrors.Invalid("status.certificate", "<certificate data>", problem));
    }

    /// <summary>What no update may do: remove an Approved, Denied or Failed condition, or replace an issued certificate.
    /// (That only /approval changes Approved/Denied, and only /status sets the certificate, the strategy ensures.)</summary>
    public static void ValidateUpdate(V1CertificateSigningRequest csr, V1CertificateSigningRequest old, List<StoreErrorCause> causes)
    {
        foreach (var type in TrueOnlyConditions)
            if (Count(csr, type) < Count(old, type))
                causes.Add(FieldErrors.Forbidden("status.conditions", $"updates may not remove a condition of type \"{type}\""));
        var certificate = csr.Status?.Certificate ?? [];
        var oldCertificate = old.Status?.Certificate ?? [];
        if (oldCertificate.Length > 0 && !certificate.AsSpan().SequenceEqual(oldCertificate))
            causes.Add(FieldErrors.Forbidden("status.certificate", "updates may not modify existing certificate content"));
    }

    private static int Count(V1CertificateSigningRequest csr, string type) => csr.Status?.Conditions?.Count(c => c.Type == type) ?? 0;

    private static void ValidateConditions(IList<V1CertificateSigningRequestCondition> conditions, List<StoreErrorCause> causes)
    {
        var seen = new HashSet<string>();
        bool approved = false, denied = false;
        for (var i = 0; i < conditions.Count; i++)
        {
            var c = conditions[i];
            var at = $"status.conditions[{i}]";
            var type = c.Type ?? "";
            if (type.Length == 0) causes.Add(FieldErrors.Required($"{at}.type"));
            string[] allowed = TrueOnlyConditions.Contains(type) ? ["True"] : ["False", "True", "Unknown"];
            if (string.IsNullOrEmpty(c.Status)) causes.Add(FieldErrors.Required($"{at}.status"));
            else if (!allowed.Contains(c.Status)) causes.Add(FieldErrors.NotSupported($"{at}.status", c.Status, allowed));
            if (type == CertificateSigningRequestStrategy.Approved)
            {
                approved = true;
                if (denied) causes.Add(FieldErrors.Invalid($"{at}.type", type, "Approved and Denied conditions are mutually exclusive"));
            }
            else if (type == CertificateSigningRequestStrategy.Denied)
            {
                denied = true;
                if (approved) causes.Add(FieldErrors.Invalid($"{at}.type", type, "Approved and Denied conditions are mutually exclusive"));
            }
            if (!seen.Add(type)) causes.Add(FieldErrors.Duplicate($"{at}.type", type));
        }
    }

    /// <summary>ValidateCertificateSigningRequestSignerName: "domain.example/path", DNS labels each side.</summary>
    public static void ValidateSignerName(string field, string signerName, List<StoreErrorCause> causes)
    {
        if (signerName.Length == 0)
        {
            causes.Add(FieldErrors.Required(field, "signerName must be provided"));
            return;
        }
        var segments = signerName.Split('/');
        if (segments.Length != 2)
        {
            causes.Add(FieldErrors.Invalid(field, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'"));
            return;
        }
        var (domain, path) = (segments[0], segments[1]);
        if (domain.Length > 253) causes.Add(TooLong(field, 253));
        var labels = domain.Split('.');
        foreach (var label in labels)
        {
            var problems = Names.Check(label, Names.Rule.Dns1123Label).ToList();
            foreach (var problem in problems) causes.Add(FieldErrors.Invalid(field, domain, $"validating label \"{label}\": {problem}"));
            if (problems.Count > 0) break;
        }
        if (labels.Length < 2) causes.Add(FieldErrors.Invalid(field, domain, "should be a domain with at least two segments separated by dots"));
        foreach (var label in path.Split('.'))
        {
            var problems = Names.Check(label, Names.Rule.Dns1123Subdomain).ToList();
            foreach (var problem in problems) causes.Add(FieldErrors.Invalid(field, path, $"validating label \"{label}\": {problem}"));
            if (problems.Count > 0) break;
        }
        const int maxLength = 253 + 253 + 63 + 1 + 1;
        if (signerName.Length > maxLength) causes.Add(TooLong(field, maxLength));
    }

    private static StoreErrorCause TooLong(string field, int max) =>
        new(field, "FieldValueTooLong", $"Too long: may not be more than {max} bytes");

    /// <summary>validateCertificate: empty, or one or more CERTIFICATE PEM blocks that parse.</summary>
    public static string? CertificateProblem(byte[]? pem)
    {
        if (pem is not { Length: > 0 }) return null;
        var text = Encoding.ASCII.GetString(pem).AsSpan();
        var blocks = 0;
        while (PemEncoding.TryFind(text, out var fields))
        {
            var label = text[fields.Label].ToString();
            if (label != "CERTIFICATE") return $"only CERTIFICATE PEM blocks are allowed, found \"{label}\"";
            try
            {
                using var _ = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(text[fields.Base64Data].ToString()));
            }
            catch (Exception e) when (e is CryptographicException or FormatException)
            {
                return "x509: malformed certificate";
            }
            blocks++;
            text = text[fields.Location.End..];
        }
        return blocks == 0 ? "must contain at least one CERTIFICATE PEM block" : null;
    }

    /// <summary>Go's %#v of a byte slice, as field.Invalid prints spec.request.</summary>
    private static RawValue GoBytes(byte[]? bytes) =>
        new(bytes is null ? "[]byte(nil)" : "[]byte{" + string.Join(", ", bytes.Select(b => "0x" + b.ToString("x"))) + "}");
}
