using System.Text.RegularExpressions;
using Cel;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>A resource quantity in CEL, by its value (as the API server reads it: <see cref="Quantities.Parse"/>).</summary>
internal sealed class CelQuantity(decimal value) : CelOpaqueValue
{
    public decimal Value { get; } = value;

    public override string CelTypeName => "kubernetes.Quantity";
    protected override object EqualityKey => Value;
}

/// <summary>
/// kube's quantity library (apiserver/pkg/cel/library/quantity.go): <c>quantity(s)</c>, <c>isQuantity(s)</c>, and on a
/// quantity <c>sign</c>, <c>isInteger</c>, <c>asInteger</c>, <c>asApproximateFloat</c>, <c>add</c>, <c>sub</c> (of a
/// quantity or an int), <c>compareTo</c>, <c>isGreaterThan</c>, <c>isLessThan</c>. Values are decimals, so a quantity
/// beyond ±7.9e28 (which Kubernetes keeps) is refused with <see cref="Quantities"/>' message, as the API does elsewhere.
/// </summary>
internal static partial class CelQuantityLibrary
{
    public static readonly IReadOnlyList<string> Functions =
    [
        "quantity", "isQuantity", "sign", "isInteger", "asInteger", "asApproximateFloat", "add", "sub", "compareTo",
        "isGreaterThan", "isLessThan",
    ];

    public static void Register(CelEnvironment env)
    {
        var q = typeof(CelQuantity);
        env.RegisterFunction("quantity", [typeof(string)], a => Parse((string)a[0]!));
        env.RegisterFunction("isQuantity", [typeof(string)], a =>
        {
            try
            {
                Parse((string)a[0]!);
                return true;
            }
            catch (CelException)
            {
                return false;
            }
        });
        env.RegisterFunction("sign", [q], a => (long)Math.Sign(V(a[0])));
        env.RegisterFunction("isInteger", [q], a => AsInt64(V(a[0])) is not null);
        env.RegisterFunction("asInteger", [q], a => AsInt64(V(a[0])) ?? throw new CelException("cannot convert value to integer"));
        env.RegisterFunction("asApproximateFloat", [q], a => (double)V(a[0]));
        env.RegisterFunction("add", [q, q], a => Sum(V(a[0]), V(a[1])));
        env.RegisterFunction("add", [q, typeof(long)], a => Sum(V(a[0]), (long)a[1]!));
        env.RegisterFunction("sub", [q, q], a => Sum(V(a[0]), -V(a[1])));
        env.RegisterFunction("sub", [q, typeof(long)], a => Sum(V(a[0]), -(decimal)(long)a[1]!));
        env.RegisterFunction("compareTo", [q, q], a => (long)V(a[0]).CompareTo(V(a[1])));
        env.RegisterFunction("isGreaterThan", [q, q], a => V(a[0]) > V(a[1]));
        env.RegisterFunction("isLessThan", [q, q], a => V(a[0]) < V(a[1]));
    }

    private static decimal V(object? value) => ((CelQuantity)value!).Value;

    private static CelQuantity Parse(string text)
    {
        // Go's ParseQuantity takes nothing outside its pattern, no space either (the model's parser is more lenient)
        if (!GoQuantityPattern().IsMatch(text)) throw new CelException(Quantities.FormatWrong);
        try
        {
            return new CelQuantity(Quantities.Parse(text).ToDecimal());
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new CelException(e is FormatException ? e.Message : Quantities.FormatWrong);
        }
    }

    [GeneratedRegex(@"^[+-]?[0-9.]+[eEinumkKMGTP]*[-+]?[0-9]*\z")]
    private static partial Regex GoQuantityPattern();

    /// <summary>Go's Quantity.AsInt64: the value when it is whole and fits an int64.</summary>
    private static long? AsInt64(decimal value) =>
        decimal.Truncate(value) == value && value >= long.MinValue && value <= long.MaxValue ? (long)value : null;

    private static CelQuantity Sum(decimal a, decimal b)
    {
        try
        {
            return new CelQuantity(a + b);
        }
        catch (OverflowException)
        {
            throw new CelException("quantity is out of the range this server supports (±7.9e28)");
        }
    }
}
