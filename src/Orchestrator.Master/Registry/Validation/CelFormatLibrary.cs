using System.Globalization;
using System.Text.RegularExpressions;
using Cel;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>CEL's optional value (cel-go's optional types, which kube's base environment enables): what
/// <c>format.named</c> and <c>validate</c> return.</summary>
internal sealed class CelOptional(bool hasValue, object? value) : CelOpaqueValue
{
    public static readonly CelOptional None = new(false, null);

    public bool HasValue { get; } = hasValue;
    public object? Value { get; } = value;

    public override string CelTypeName => "optional_type";
    protected override object EqualityKey => HasValue ? Value ?? "null" : "optional.none()";
}

/// <summary>One of the formats <c>format.named</c> knows, with its validation.</summary>
internal sealed class CelFormat(string name, Func<string, IReadOnlyList<string>> validate) : CelOpaqueValue
{
    public string Name { get; } = name;
    public Func<string, IReadOnlyList<string>> Validate { get; } = validate;

    public override string CelTypeName => "kubernetes.NamedFormat";
    protected override object EqualityKey => Name;
}

/// <summary>
/// kube's format library (apiserver/pkg/cel/library/format.go): <c>format.named(name)</c> (an optional format),
/// <c>format.dns1123Label()</c> and the other named formats, and <c>f.validate(s)</c>: <c>optional.none()</c> when
/// <c>s</c> is valid, else the optional list of apimachinery's messages. With it the optional functions the results need:
/// <c>hasValue</c>, <c>value</c>, <c>orValue</c>, <c>optional.of</c>, <c>optional.none</c> (not the <c>?.</c> and
/// <c>[?</c> syntax, which the package's parser lacks).
/// </summary>
internal static partial class CelFormatLibrary
{
    private static readonly Dictionary<string, CelFormat> Formats = new CelFormat[]
    {
        new("dns1123Label", s => Names.Check(s, Names.Rule.Dns1123Label).ToList()),
        new("dns1123Subdomain", s => Names.Check(s, Names.Rule.Dns1123Subdomain).ToList()),
        new("dns1035Label", s => Names.Check(s, Names.Rule.Dns1035Label).ToList()),
        new("qualifiedName", LabelSyntax.KeyProblems),
        new("dns1123LabelPrefix", s => Names.Check(MaskTrailingDash(s), Names.Rule.Dns1123Label).ToList()),
        new("dns1123SubdomainPrefix", s => Names.Check(MaskTrailingDash(s), Names.Rule.Dns1123Subdomain).ToList()),
        new("dns1035LabelPrefix", s => Names.Check(MaskTrailingDash(s), Names.Rule.Dns1035Label).ToList()),
        new("labelValue", LabelSyntax.ValueProblems),
        new("uri", s => CelUrlLibrary.Parse(s, out _) is { } error ? [error] : []),
        new("uuid", s => Uuid().IsMatch(s) ? [] : ["does not match the UUID format"]),
        new("byte", s => s.Length % 4 == 0 && Convert.TryFromBase64String(s, new byte[s.Length], out _) ? [] : ["invalid base64"]),
        new("date", s => DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) ? [] : ["invalid date"]),
        new("datetime", s => IsDateTime(s) ? [] : ["invalid datetime"]),
    }.ToDictionary(f => f.Name, StringComparer.Ordinal);

    public static readonly IReadOnlyList<string> Functions =
        [.. Formats.Keys, "named", "validate", "hasValue", "value", "orValue", "of", "none"];

    public static void Register(CelEnvironment env)
    {
        var ns = typeof(CelNamespace);
        foreach (var format in Formats.Values)
            env.RegisterFunction(format.Name, [ns], a => Namespace(a[0], "format") ? format : throw Unbound(format.Name));
        env.RegisterFunction("named", [ns, typeof(string)], a =>
            Namespace(a[0], "format") && Formats.TryGetValue((string)a[1]!, out var f) ? new CelOptional(true, f) : CelOptional.None);
        env.RegisterFunction("validate", [typeof(CelFormat), typeof(string)], a =>
        {
            var text = (string)a[1]!;
            CelCost.Charge(text.Length);
            var problems = ((CelFormat)a[0]!).Validate(text);
            return problems.Count == 0 ? CelOptional.None : new CelOptional(true, problems.Cast<object?>().ToList());
        });

        var opt = typeof(CelOptional);
        env.RegisterFunction("hasValue", [opt], a => ((CelOptional)a[0]!).HasValue);
        env.RegisterFunction("value", [opt], a =>
            ((CelOptional)a[0]!) is { HasValue: true } o ? o.Value : throw new CelException("optional.none() dereference"));
        env.RegisterFunction("orValue", [opt, typeof(object)], a => ((CelOptional)a[0]!) is { HasValue: true } o ? o.Value : a[1]);
        env.RegisterFunction("of", [ns, typeof(object)], a => Namespace(a[0], "optional") ? new CelOptional(true, a[1]) : throw Unbound("of"));
        env.RegisterFunction("none", [ns], a => Namespace(a[0], "optional") ? CelOptional.None : throw Unbound("none"));
    }

    private static bool Namespace(object? value, string name) => ((CelNamespace)value!).Name == name;

    private static CelException Unbound(string function) => new($"no such overload: {function}");

    /// <summary>apimachinery's maskTrailingDash: a prefix may end in '-' (a generated suffix follows).</summary>
    private static string MaskTrailingDash(string s) => s.Length > 1 && s[^1] == '-' ? s[..^1] + "a" : s;

    [GeneratedRegex("^(?i:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})\\z")]
    private static partial Regex Uuid();

    /// <summary>strfmt's IsDateTime: RFC 3339 date-times, with or without fractional seconds.</summary>
    private static bool IsDateTime(string s) => DateTimeOffset.TryParseExact(s,
        ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'"],
        CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);
}
