using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using k8s;
using k8s.Models;

namespace Orchestrator.Shared.Api;

/// <summary>
/// Kubernetes' MicroTime fields are written with exactly six fractional digits (RFC 3339 micro), as kube-apiserver
/// writes them: Go reads a MicroTime with the layout <c>2006-01-02T15:04:05.000000Z07:00</c> and refuses any other number
/// of digits, while KubernetesJson drops an all-zero fraction (<c>…:00Z</c>), so an event whose eventTime is an exact
/// second could not be decoded by kubectl describe or client-go. The models do not tell a MicroTime from a Time (both
/// DateTime), so the fields are named here. Every other DateTime of a Kubernetes model is a metav1.Time, written in whole
/// seconds as kube-apiserver writes it (a controller's DateTime.UtcNow would otherwise show a fraction). Reading is unchanged.
/// </summary>
internal static class MicroTimes
{
    private static readonly Dictionary<Type, string[]> Fields = new()
    {
        [typeof(Corev1Event)] = ["eventTime"],
        [typeof(Corev1EventSeries)] = ["lastObservedTime"],
        [typeof(Eventsv1Event)] = ["eventTime"],
        [typeof(Eventsv1EventSeries)] = ["lastObservedTime"],
        [typeof(V1LeaseSpec)] = ["acquireTime", "renewTime"],
    };

    // Before any object is (de)serialized: KubernetesJson's options cannot change after their first use. A module
    // initializer of this library (CA2255) because the master, the node and the CLI all serialize through it.
#pragma warning disable CA2255
    [ModuleInitializer]
    internal static void Register() => KubernetesJson.AddJsonOptions(options =>
        options.TypeInfoResolver = (options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(Apply));
#pragma warning restore CA2255

    private static void Apply(JsonTypeInfo type)
    {
        if (type.Kind != JsonTypeInfoKind.Object) return;
        var micro = Fields.GetValueOrDefault(type.Type);
        // every other DateTime of a Kubernetes model is a metav1.Time: written in whole seconds (Go's
        // t.UTC().Format(time.RFC3339)), where KubernetesJson would write a fraction the API server never does
        var isModel = type.Type.Assembly == typeof(V1ObjectMeta).Assembly;
        if (micro is null && !isModel) return;
        foreach (var property in type.Properties)
        {
            var isMicro = micro?.Contains(property.Name) == true;
            if (!isMicro && !isModel) continue;
            if (property.PropertyType == typeof(DateTime))
                property.CustomConverter = new TimeConverter(isMicro ? Micro : Seconds);
            else if (property.PropertyType == typeof(DateTime?))
                property.CustomConverter = new NullableTimeConverter(isMicro ? Micro : Seconds);
        }
    }

    internal static string FormatSeconds(DateTime value) =>
        value.ToUniversalTime().ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'", CultureInfo.InvariantCulture);

    internal static string Format(DateTime value) =>
        value.ToUniversalTime().ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'Z'", CultureInfo.InvariantCulture);

    private static DateTime ReadAsKubernetesJson(ref Utf8JsonReader reader, JsonSerializerOptions options) =>
        ((JsonConverter<DateTime>)options.GetConverter(typeof(DateTime))).Read(ref reader, typeof(DateTime), options);

    private static readonly Func<DateTime, string> Micro = Format;
    private static readonly Func<DateTime, string> Seconds = FormatSeconds;

    /// <summary>Reads as KubernetesJson does, writes with <paramref name="format"/> (a MicroTime's or a Time's).</summary>
    private sealed class TimeConverter(Func<DateTime, string> format) : JsonConverter<DateTime>
    {
        public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            ReadAsKubernetesJson(ref reader, options);

        public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options) =>
            writer.WriteStringValue(format(value));
    }

    private sealed class NullableTimeConverter(Func<DateTime, string> format) : JsonConverter<DateTime?>
    {
        public override DateTime? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? null : ReadAsKubernetesJson(ref reader, options);

        public override void Write(Utf8JsonWriter writer, DateTime? value, JsonSerializerOptions options)
        {
            if (value is { } time) writer.WriteStringValue(format(time));
            else writer.WriteNullValue();
        }
    }
}
