using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Orchestrator.Shared.Api;

/// <summary>
/// How resource quantities are read: as Kubernetes' Quantity.UnmarshalJSON reads them (a string, or a bare JSON number
/// taken as its text), with its message for text that is no quantity; and refused when the model cannot hold the value:
/// KubernetesClient's ResourceQuantity converts to <see cref="decimal"/> to compare and to print, so a quantity beyond
/// ±7.9e28 would be taken and then fail every later serialization and comparison of its object (a 500, or worse in a
/// controller). Kubernetes itself keeps such values; here they are refused with a clear message instead. And negative
/// quantities are written through <see cref="Text"/>: the model's own text of a negative quantity is wrong
/// ("-0.000000000000000001E" for -1) and, for one in exponent form ("-1e3"), never returns — a thread lost for good per
/// request, before any validation could refuse it. So a negative exponent-form quantity is read as a decimal SI one.
/// The model's own parse never returns for a huge exponent ("1e999999999") either, so text longer than any value it can
/// hold needs, or an exponent beyond ±<see cref="MaxExponent"/>, is refused before the model sees it.
/// </summary>
public static class Quantities
{
    /// <summary>Go's resource.ErrFormatWrong.</summary>
    public const string FormatWrong = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

#pragma warning disable CA2255 // as MicroTimes: before any object is (de)serialized, in every process using this library
    [ModuleInitializer]
    internal static void Register() => KubernetesJson.AddJsonOptions(options => options.Converters.Insert(0, new Converter()));
#pragma warning restore CA2255

    /// <summary>The longest quantity text read: far more digits than the model's 28 significant ones.</summary>
    private const int MaxLength = 64;

    /// <summary>The largest exponent (e or E form) read: beyond the model's range either way, and small enough to parse.</summary>
    private const int MaxExponent = 64;

    /// <summary>The quantity <paramref name="text"/> names; a <see cref="FormatException"/> with the reason otherwise.</summary>
    public static ResourceQuantity Parse(string text)
    {
        text = text.Trim();
        if (text.Length > MaxLength || ExponentBeyondRange(text)) throw OutOfRange(text);
        ResourceQuantity quantity;
        try
        {
            quantity = new ResourceQuantity(text);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            throw new FormatException(FormatWrong);
        }
        try
        {
            var value = quantity.ToDecimal();
            if (value < 0)
            {
                quantity = new ResourceQuantity(value, 0, quantity.Format == ResourceQuantity.SuffixFormat.DecimalExponent
                    ? ResourceQuantity.SuffixFormat.DecimalSI : quantity.Format);
                _ = new ResourceQuantity(-value, 0, quantity.Format).ToString();
            }
            else _ = quantity.ToString();
        }
        catch (OverflowException)
        {
            throw OutOfRange(text);
        }
        return quantity;
    }

    private static FormatException OutOfRange(string text) =>
        new($"quantity \"{(text.Length > MaxLength ? text[..MaxLength] + "…" : text)}\" is out of the range this server supports (±7.9e28)");

    /// <summary>Whether the text ends in an exponent ("e" or "E", a sign, digits) beyond ±<see cref="MaxExponent"/>;
    /// text of any other shape is left to the parse (which refuses what is no quantity).</summary>
    private static bool ExponentBeyondRange(string text)
    {
        var end = text.Length;
        var digits = end;
        while (digits > 0 && char.IsAsciiDigit(text[digits - 1])) digits--;
        if (digits == end) return false;
        var sign = digits > 0 && text[digits - 1] is '+' or '-' ? digits - 1 : digits;
        if (sign == 0 || text[sign - 1] is not ('e' or 'E')) return false;
        var exponent = text.AsSpan(digits).TrimStart('0');
        return exponent.Length > 2 || (exponent.Length > 0 && int.Parse(exponent) > MaxExponent);
    }

    /// <summary>The quantity's canonical text, as Go's Quantity.String() gives it, negative ones included.</summary>
    public static string Text(ResourceQuantity quantity)
    {
        var value = quantity.ToDecimal();
        return value < 0 ? "-" + new ResourceQuantity(-value, 0, quantity.Format) : quantity.ToString();
    }

    private sealed class Converter : JsonConverter<ResourceQuantity>
    {
        public override bool HandleNull => false;

        public override ResourceQuantity? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType switch
            {
                JsonTokenType.String => Parse(reader.GetString()!),
                JsonTokenType.Number => Parse(Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan)),
                _ => throw new JsonException($"cannot unmarshal {reader.TokenType} into a quantity"),
            };

        public override void Write(Utf8JsonWriter writer, ResourceQuantity value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Text(value));
    }
}
