using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using k8s.Models;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// apiextensions-apiserver's validateCustomResourceConversion. Kube validates the internal type, so its errors name
/// the internal fields — <c>spec.conversion.webhookClientConfig</c> and <c>spec.conversion.conversionReviewVersions</c>,
/// not v1's <c>spec.conversion.webhook.clientConfig</c> — and so do these. The client config follows the admission
/// webhooks' rules (url XOR service, https only, no user, query or fragment; service name, namespace, port and path).
/// </summary>
internal static class CustomResourceConversionValidation
{
    /// <summary>The ConversionReview versions kube speaks (acceptedConversionReviewVersions, sorted as kube lists them).</summary>
    public static readonly string[] ReviewVersions = ["v1", "v1beta1"];

    private const string ClientConfigPath = "spec.conversion.webhookClientConfig";
    private const string ReviewVersionsPath = "spec.conversion.conversionReviewVersions";

    public static void Validate(V1CustomResourceConversion conversion, bool requireRecognizedReviewVersion, bool allowInvalidCaBundle,
        List<StoreErrorCause> causes)
    {
        var client = conversion.Webhook?.ClientConfig;
        var versions = conversion.Webhook?.ConversionReviewVersions;
        switch (conversion.Strategy)
        {
            case "Webhook":
                if (client is null) causes.Add(FieldErrors.Required(ClientConfigPath, "required when strategy is set to Webhook"));
                else
                {
                    WebhookClientRules.ValidateClientConfig(AsAdmissionConfig(client), ClientConfigPath, causes);
                    if (client.CaBundle is { Length: > 0 } bundle && !allowInvalidCaBundle && CaBundleProblem(bundle) is { } problem)
                        causes.Add(FieldErrors.Invalid(ClientConfigPath + ".caBundle", Convert.ToBase64String(bundle), problem));
                }
                ValidateReviewVersions(versions, requireRecognizedReviewVersion, causes);
                break;
            case "None":
                if (client is not null)
                    causes.Add(FieldErrors.Forbidden(ClientConfigPath, "should not be set when strategy is not set to Webhook"));
                if (versions is { Count: > 0 })
                    causes.Add(FieldErrors.Forbidden(ReviewVersionsPath, "should not be set when strategy is not set to Webhook"));
                break;
            default:
                causes.Add(conversion.Strategy is null or ""
                    ? FieldErrors.Required("spec.conversion.strategy")
                    : FieldErrors.NotSupported("spec.conversion.strategy", conversion.Strategy, ["None", "Webhook"]));
                break;
        }
    }

    private static void ValidateReviewVersions(IList<string>? versions, bool requireRecognized, List<StoreErrorCause> causes)
    {
        if (versions is not { Count: > 0 })
        {
            causes.Add(FieldErrors.Required(ReviewVersionsPath));
            return;
        }
        var seen = new HashSet<string>();
        for (var i = 0; i < versions.Count; i++)
        {
            if (!seen.Add(versions[i]))
            {
                causes.Add(FieldErrors.Invalid($"{ReviewVersionsPath}[{i}]", versions[i], "duplicate version"));
                continue;
            }
            foreach (var problem in Names.Check(versions[i], Names.Rule.Dns1035Label))
                causes.Add(FieldErrors.Invalid($"{ReviewVersionsPath}[{i}]", versions[i], problem));
        }
        if (requireRecognized && !versions.Any(ReviewVersions.Contains))
            causes.Add(FieldErrors.Invalid(ReviewVersionsPath, FieldErrors.GoStrings(versions), $"must include at least one of {string.Join(", ", ReviewVersions)}"));
    }

    /// <summary>hasValidConversionReviewVersionOrEmpty of the old definition (an update keeps an old unknown list valid).</summary>
    public static bool HasRecognizedReviewVersionOrNone(V1CustomResourceConversion? old) =>
        old?.Webhook?.ConversionReviewVersions is not { Count: > 0 } versions || versions.Any(ReviewVersions.Contains);

    /// <summary>allowInvalidCABundle: the old definition is not established, or its caBundle was unreadable too.</summary>
    public static bool HasInvalidCaBundle(V1CustomResourceDefinition old)
    {
        if (old.Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") != true) return true;
        return old.Spec?.Conversion?.Webhook?.ClientConfig?.CaBundle is { Length: > 0 } bundle && CaBundleProblem(bundle) is not null;
    }

    /// <summary>Why TLS could not use the bundle as its roots (client-go's TLSConfigFor), or null.</summary>
    internal static string? CaBundleProblem(byte[] bundle)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPem(System.Text.Encoding.UTF8.GetString(bundle));
        }
        catch (CryptographicException)
        {
            return "unable to load root certificates: unable to parse bytes as PEM block";
        }
        return roots.Count == 0 ? "unable to load root certificates: unable to parse bytes as PEM block" : null;
    }

    /// <summary>The CRD's client config as an admission webhook's (the same fields).</summary>
    public static Admissionregistrationv1WebhookClientConfig AsAdmissionConfig(Apiextensionsv1WebhookClientConfig client) => new()
    {
        Url = client.Url, CaBundle = client.CaBundle,
        Service = client.Service is { } s
            ? new Admissionregistrationv1ServiceReference { Name = s.Name, NamespaceProperty = s.NamespaceProperty, Path = s.Path, Port = s.Port }
            : null,
    };
}
