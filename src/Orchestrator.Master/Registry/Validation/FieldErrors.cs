using System.Globalization;
using System.Text;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>Field causes worded like Kubernetes' field.Error (reason and message of a Status cause).</summary>
internal static class FieldErrors
{
    public static StoreErrorCause Invalid(string field, object? value, string detail) =>
        new(field, "FieldValueInvalid", $"Invalid value: {Format(value)}: {detail}");

    public static StoreErrorCause Required(string field, string detail = "") =>
        new(field, "FieldValueRequired", detail.Length == 0 ? "Required value" : $"Required value: {detail}");

    public static StoreErrorCause NotSupported(string field, object? value, IEnumerable<string> supported) =>
        new(field, "FieldValueNotSupported",
            $"Unsupported value: {Format(value)}: supported values: {string.Join(", ", supported.Select(GoQuote.Quote))}");

    public static StoreErrorCause Duplicate(string field, object? value) =>
        new(field, "FieldValueDuplicate", $"Duplicate value: {Format(value)}");

    public static StoreErrorCause NotFound(string field, object? value) =>
        new(field, "FieldValueNotFound", $"Not found: {Format(value)}");

    public static StoreErrorCause Forbidden(string field, string detail) => new(field, "FieldValueForbidden", $"Forbidden: {detail}");

    /// <summary>Go's %#v for the values we report: quoted strings, bare numbers, map[string]string{...}.</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        string s => GoQuote.Quote(s),
        bool b => b ? "true" : "false",
        IDictionary<string, string> map => "map[string]string{" +
            string.Join(", ", map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{GoQuote.Quote(kv.Key)}:{GoQuote.Quote(kv.Value)}")) + "}",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A string slice in Go's %#v notation (<c>[]string{"a", "b"}</c>), as field errors print list values.</summary>
    public static RawValue GoStrings(IEnumerable<string>? values) =>
        values is null ? new RawValue("[]string(nil)") : new RawValue("[]string{" + string.Join(", ", values.Select(GoQuote.Quote)) + "}");
}
