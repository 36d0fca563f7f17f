using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>kube's webhook client rules (k8s.io/apiserver's webhook.ValidateWebhookURL and ValidateWebhookService), shared
/// by admission webhook configurations and CRD conversion webhooks.</summary>
internal static class WebhookClientRules
{
    /// <summary>validateWebhookClientConfig: exactly one of url (https, a host, no user, query or fragment) and service
    /// (name, namespace, a port in 1–65535, a path of DNS-1123 subdomain segments).</summary>
    public static void ValidateClientConfig(Admissionregistrationv1WebhookClientConfig? client, string path, List<StoreErrorCause> causes)
    {
        var (url, service) = (client?.Url, client?.Service);
        if ((url is null) == (service is null))
        {
            causes.Add(FieldErrors.Required(path, "exactly one of url or service is required"));
            return;
        }
        if (url is not null)
        {
            foreach (var problem in UrlProblems(url)) causes.Add(FieldErrors.Invalid(path + ".url", url, problem));
            return;
        }
        var s = service!;
        if (string.IsNullOrEmpty(s.Name)) causes.Add(FieldErrors.Required(path + ".service.name", "service name is required"));
        if (string.IsNullOrEmpty(s.NamespaceProperty)) causes.Add(FieldErrors.Required(path + ".service.namespace", "service namespace is required"));
        if (s.Port is { } port && port is < 1 or > 65535)
            causes.Add(FieldErrors.Invalid(path + ".service.port", port, "port is not valid: must be between 1 and 65535, inclusive"));
        if (s.Path is not { } urlPath || urlPath is "/" or "") return;
        if (urlPath == "//")
        {
            causes.Add(FieldErrors.Invalid(path + ".service.path", urlPath, "segment[0] may not be empty"));
            return;
        }
        if (!urlPath.StartsWith('/')) causes.Add(FieldErrors.Invalid(path + ".service.path", urlPath, "must start with a '/'"));
        var check = urlPath[1..];
        if (check.EndsWith('/')) check = check[..^1];
        var steps = check.Split('/');
        for (var i = 0; i < steps.Length; i++)
        {
            if (steps[i].Length == 0)
            {
                causes.Add(FieldErrors.Invalid(path + ".service.path", urlPath, $"segment[{i}] may not be empty"));
                continue;
            }
            foreach (var problem in Names.Check(steps[i], Names.Rule.Dns1123Subdomain))
                causes.Add(FieldErrors.Invalid(path + ".service.path", urlPath, $"segment[{i}]: {problem}"));
        }
    }

    /// <summary>webhook.ValidateWebhookURL with forceHttps.</summary>
    public static IEnumerable<string> UrlProblems(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            yield return "host must be specified";
            yield break;
        }
        if (uri.Scheme != "https") yield return "'https' is the only allowed URL scheme";
        if (uri.Host.Length == 0) yield return "host must be specified";
        if (uri.UserInfo.Length > 0) yield return "user information is not permitted in the URL";
        if (uri.Fragment.Length > 0 || url.Contains('#')) yield return "fragments are not permitted in the URL";
        if (uri.Query.Length > 0 || url.Contains('?')) yield return "query parameters are not permitted in the URL";
    }
}
