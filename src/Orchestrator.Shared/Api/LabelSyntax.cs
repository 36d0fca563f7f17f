using System.Text;

namespace Orchestrator.Shared.Api;

/// <summary>
/// Kubernetes' label key and value syntax (apimachinery's IsQualifiedName and IsValidLabelValue) with its messages.
/// Lengths are UTF-8 bytes and the patterns must match the whole text, as Go's len() and regexp see them; the
/// patterns are checked by hand so that a long hostile key costs one pass.
/// </summary>
public static class LabelSyntax
{
    private const string QualifiedNameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
    private const string Dns1123SubdomainFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";

    private const string QualifiedNameMessage =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character " +
        "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '" + QualifiedNameFormat + "')";

    private const string LabelValueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and " +
        "end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(" +
        QualifiedNameFormat + ")?')";

    private const string Dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must " +
        "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '" +
        Dns1123SubdomainFormat + "')";

    /// <summary>The messages for a key that is not a qualified name (optional DNS-1123 subdomain prefix and '/', then a
    /// name part of at most 63 characters); empty when the key is valid.</summary>
    public static IReadOnlyList<string> KeyProblems(string key)
    {
        var problems = new List<string>();
        var parts = key.Split('/');
        string name;
        switch (parts.Length)
        {
            case 1:
                name = parts[0];
                break;
            case 2:
                var prefix = parts[0];
                if (prefix.Length == 0) problems.Add("prefix part must be non-empty");
                else
                {
                    if (Bytes(prefix) > 253) problems.Add("prefix part must be no more than 253 characters");
                    if (!IsDns1123Subdomain(prefix)) problems.Add("prefix part " + Dns1123SubdomainMessage);
                }
                name = parts[1];
                break;
            default:
                problems.Add("a qualified name " + QualifiedNameMessage +
                             " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
                return problems;
        }
        if (name.Length == 0) problems.Add("name part must be non-empty");
        else if (Bytes(name) > 63) problems.Add("name part must be no more than 63 characters");
        // As IsQualifiedName: an empty name part fails the pattern too, so it has both messages.
        if (!IsQualifiedNamePart(name)) problems.Add("name part " + QualifiedNameMessage);
        return problems;
    }

    /// <summary>The messages for a label value that is neither empty nor a name part of at most 63 characters.</summary>
    public static IReadOnlyList<string> ValueProblems(string value)
    {
        var problems = new List<string>();
        if (Bytes(value) > 63) problems.Add("must be no more than 63 characters");
        if (value.Length > 0 && !IsQualifiedNamePart(value)) problems.Add(LabelValueMessage);
        return problems;
    }

    private static int Bytes(string text) => Encoding.UTF8.GetByteCount(text);

    // ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
    private static bool IsQualifiedNamePart(string name) =>
        name.Length > 0 && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1]) &&
        name.AsSpan().IndexOfAnyExcept(QualifiedNameChars) < 0;

    // Labels of [a-z0-9]([-a-z0-9]*[a-z0-9])? joined by dots.
    private static bool IsDns1123Subdomain(string name)
    {
        foreach (var label in name.Split('.'))
        {
            if (label.Length == 0 || !IsLowerAlnum(label[0]) || !IsLowerAlnum(label[^1]) ||
                label.AsSpan().IndexOfAnyExcept(Dns1123LabelChars) >= 0)
                return false;
        }
        return true;
    }

    private static bool IsLowerAlnum(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);

    private static readonly System.Buffers.SearchValues<char> QualifiedNameChars =
        System.Buffers.SearchValues.Create("-_.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static readonly System.Buffers.SearchValues<char> Dns1123LabelChars =
        System.Buffers.SearchValues.Create("-0123456789abcdefghijklmnopqrstuvwxyz");
}
