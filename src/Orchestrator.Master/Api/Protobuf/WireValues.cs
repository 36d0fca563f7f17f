using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Orchestrator.Master.Api.Protobuf;

/// <summary>
/// How Go's zero values on the wire become "absent" in the KubernetesClient model.
/// Kubernetes marshals every non-pointer Go field, even when empty (an empty generateName is sent as a
/// zero-length string), while JSON omits those fields (omitempty). We keep the JSON meaning: an empty
/// non-pointer value maps to null, so the store applies its defaults exactly as for a JSON body. Pointer
/// fields (replicas, terminationGracePeriodSeconds, …) are only on the wire when set, so their presence
/// is kept even when the value is zero.
/// </summary>
internal static class WireValues
{
    /// <summary>A non-pointer string with omitempty: "" means absent.</summary>
    public static string? OmitEmpty(string value) => value.Length == 0 ? null : value;

    /// <summary>A non-pointer number with omitempty: 0 means absent.</summary>
    public static int? OmitZero(int value) => value == 0 ? null : value;

    /// <summary>A non-pointer number with omitempty: 0 means absent.</summary>
    public static long? OmitZero(long value) => value == 0 ? null : value;

    /// <summary>A non-pointer bool with omitempty: false means absent.</summary>
    public static bool? OmitFalse(bool value) => value ? true : null;

    /// <summary>A pointer field: present on the wire means set, whatever its value.</summary>
    public static T? Present<T>(bool has, T value) where T : struct => has ? value : null;

    /// <summary>A pointer string or a required one: present means set, "" included.</summary>
    public static string? Present(bool has, string value) => has ? value : null;

    public static IList<string>? Strings(RepeatedField<string> values) =>
        values.Count == 0 ? null : values.ToList();

    public static IList<TOut>? List<TIn, TOut>(RepeatedField<TIn> values, Func<TIn, TOut> map) =>
        values.Count == 0 ? null : values.Select(map).ToList();

    public static IDictionary<string, string>? Map(MapField<string, string> values) =>
        values.Count == 0 ? null : new Dictionary<string, string>(values);

    public static IDictionary<string, byte[]>? Map(MapField<string, ByteString> values) =>
        values.Count == 0 ? null : values.ToDictionary(e => e.Key, e => e.Value.ToByteArray());
}
