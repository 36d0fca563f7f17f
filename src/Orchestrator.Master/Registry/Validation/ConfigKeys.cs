using System.Text.RegularExpressions;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>Kubernetes' IsConfigMapKey and the size limit of ConfigMaps and Secrets.</summary>
internal static partial class ConfigKeys
{
    public const long MaxSize = 1024 * 1024;
    public const string ImmutableMessage = "field is immutable when `immutable` is set";

    public static void Validate(string field, string key, List<StoreErrorCause> causes)
    {
        if (key.Length > 253) causes.Add(FieldErrors.Invalid(field, key, "must be no more than 253 characters"));
        if (!Key().IsMatch(key))
            causes.Add(FieldErrors.Invalid(field, key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
        if (key is "." or "..") causes.Add(FieldErrors.Invalid(field, key, $"must not be '{key}'"));
        else if (key.StartsWith("..", StringComparison.Ordinal)) causes.Add(FieldErrors.Invalid(field, key, "must not start with '..'"));
    }

    [GeneratedRegex("^[-._a-zA-Z0-9]+\\z")]
    private static partial Regex Key();
}
