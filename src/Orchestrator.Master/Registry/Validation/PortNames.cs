using System.Text.RegularExpressions;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>Kubernetes' IsValidPortName (an IANA_SVC_NAME): at most 15 lower-case alphanumerics or '-', at least one
/// letter, no leading, trailing or doubled '-'.</summary>
internal static partial class PortNames
{
    [GeneratedRegex("^[-a-z0-9]+\\z")] private static partial Regex Chars();
    [GeneratedRegex("[a-z]")] private static partial Regex Letter();

    public static IEnumerable<string> Check(string name)
    {
        if (name.Length > 15) yield return "must be no more than 15 characters";
        if (!Chars().IsMatch(name)) yield return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
        if (name.Contains("--")) yield return "must not contain consecutive hyphens";
        if (!Letter().IsMatch(name)) yield return "must contain at least one letter (a-z)";
        if (name.StartsWith('-') || name.EndsWith('-')) yield return "must not begin or end with a hyphen";
    }
}
