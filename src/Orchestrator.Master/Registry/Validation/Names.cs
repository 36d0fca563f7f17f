using System.Text.RegularExpressions;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>Kubernetes' name rules (apimachinery validation): DNS-1123 subdomain for most kinds, DNS-1123 label
/// for namespaces, DNS-1035 label for services, with the API server's exact messages.</summary>
internal static partial class Names
{
    public const string Dns1123LabelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    public const string Dns1123SubdomainFormat = Dns1123LabelFormat + "(\\." + Dns1123LabelFormat + ")*";
    public const string Dns1035LabelFormat = "[a-z]([-a-z0-9]*[a-z0-9])?";

    public const string Dns1123LabelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and " +
        "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '" +
        Dns1123LabelFormat + "')";

    public const string Dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must " +
        "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '" +
        Dns1123SubdomainFormat + "')";

    public const string Dns1035LabelMessage =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic " +
        "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for " +
        "validation is '" + Dns1035LabelFormat + "')";

    [GeneratedRegex("^" + Dns1123LabelFormat + "\\z")] private static partial Regex Dns1123Label();
    [GeneratedRegex("^" + Dns1123SubdomainFormat + "\\z")] private static partial Regex Dns1123Subdomain();
    [GeneratedRegex("^" + Dns1035LabelFormat + "\\z")] private static partial Regex Dns1035Label();

    /// <summary>DNS-1123 subdomain, DNS-1123 label, DNS-1035 label, or a path segment (RBAC's minimal rule: not "." or
    /// "..", no '/' or '%').</summary>
    public enum Rule { Dns1123Subdomain, Dns1123Label, Dns1035Label, PathSegment }

    /// <summary>The messages for a name that breaks the rule (empty when valid).</summary>
    public static IEnumerable<string> Check(string name, Rule rule)
    {
        if (rule == Rule.PathSegment)
        {
            foreach (var problem in CheckPathSegment(name)) yield return problem;
            yield break;
        }
        var (max, regex, message) = rule switch
        {
            Rule.Dns1123Label => (63, Dns1123Label(), Dns1123LabelMessage),
            Rule.Dns1035Label => (63, Dns1035Label(), Dns1035LabelMessage),
            _ => (253, Dns1123Subdomain(), Dns1123SubdomainMessage),
        };
        if (name.Length > max) yield return $"must be no more than {max} characters";
        if (!regex.IsMatch(name)) yield return message;
    }

    /// <summary>apimachinery's IsValidPathSegmentName: a name that can be one segment of a URL path.</summary>
    private static IEnumerable<string> CheckPathSegment(string name)
    {
        if (name is "." or "..")
        {
            yield return $"may not be '{name}'";
            yield break;
        }
        if (name.Contains('/')) yield return "may not contain '/'";
        if (name.Contains('%')) yield return "may not contain '%'";
    }
}
